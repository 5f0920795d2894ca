/* Running a probe in a child process, so that a driver that crashes or hangs costs a "not available" line
 * instead of the caller's process. See hw_run_in_child in hw_internal.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_why(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t cap, const char *fmt, ...) {
    if (!why || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* The child side: run fn, send the result, leave without running the parent's atexit handlers. */
static void child_main(hw_child_fn fn, void *arg, void *result, size_t size, int wfd, pid_t parent) {
#ifdef __linux__
    /* If the parent dies while the probe hangs, do not linger. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(3);
#else
    (void)parent;
#endif
    /* Crash signals must kill the child so the parent sees which signal it was, even when the parent installed
     * handlers (sanitizers, crash reporters) that would turn a crash into an ordinary exit. */
    static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        sigaction(crash_signals[i], &sa, NULL);
        sigaddset(&unblock, crash_signals[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);

    /* Drivers sometimes print; the parent's stdout may be a JSON document. */
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }

    fn(arg, result);

    const char *p = result;
    size_t left = size;
    while (left > 0) {
        ssize_t k = write(wfd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) _exit(4);
        p += k;
        left -= (size_t)k;
    }
    _exit(0);
}

/* Waits for pid until the deadline. Returns 1 when reaped (status filled), 0 when still running at the deadline,
 * -1 when it cannot be waited for (ECHILD: the application set SIGCHLD to SIG_IGN, so the kernel reaps it). */
static int reap_until(pid_t pid, int64_t deadline, int *status) {
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 1;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() >= deadline) return 0;
        struct timespec ts = {0, 1000000}; /* 1 ms: an exiting child is usually gone after one or two */
        nanosleep(&ts, NULL);
    }
}

/* Kills and reaps a child that overran its time. */
static void kill_and_reap(pid_t pid, int *status) {
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
}

accel_status hw_run_in_child(hw_child_fn fn, void *arg, void *result, size_t result_size, int timeout_ms,
                             char *why, size_t why_cap) {
    set_why(why, why_cap, "%s", "");
    if (!fn || !result || timeout_ms <= 0) {
        set_why(why, why_cap, "invalid arguments to the probe runner");
        return ACCEL_ERR_INVALID_ARG;
    }
    memset(result, 0, result_size);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        set_why(why, why_cap, "could not create a pipe for the probe: %s", strerror(errno));
        return ACCEL_ERR_INTERNAL;
    }
    int64_t deadline = now_ms() + timeout_ms;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        set_why(why, why_cap, "could not fork the probe process: %s", strerror(err));
        return ACCEL_ERR_INTERNAL;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(fn, arg, result, result_size, fds[1], parent);
    }
    close(fds[1]);

    /* Read the result until it is complete, the child closes the pipe (exit or crash), or time runs out. */
    size_t got = 0;
    bool timed_out = false;
    int read_errno = 0;
    while (got < result_size) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            read_errno = errno;
            break;
        }
        if (r == 0) {
            timed_out = true;
            break;
        }
        ssize_t k = read(fds[0], (char *)result + got, result_size - got);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k < 0) {
            read_errno = errno;
            break;
        }
        if (k == 0) break; /* EOF */
        got += (size_t)k;
    }
    close(fds[0]);

    int status = 0;
    int reaped = reap_until(pid, timed_out ? now_ms() : deadline, &status);
    bool killed_by_us = false;
    if (reaped == 0) {
        kill_and_reap(pid, &status);
        killed_by_us = true;
    } else if (reaped < 0 && timed_out) {
        /* SIGCHLD is ignored, so we cannot tell whether it still runs: make sure it does not. */
        kill(pid, SIGKILL);
    }

    accel_status st = ACCEL_ERR_DEVICE;
    if (killed_by_us || (timed_out && reaped != 1)) {
        set_why(why, why_cap, "timed out after %d ms", timeout_ms);
    } else if (reaped == 1 && WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        set_why(why, why_cap, "probe crashed with signal %d (%s)", sig, strsignal(sig));
    } else if (reaped == 1 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        set_why(why, why_cap, "probe exited with status %d", WEXITSTATUS(status));
    } else if (read_errno != 0) {
        set_why(why, why_cap, "reading the probe result failed: %s", strerror(read_errno));
    } else if (got < result_size) {
        set_why(why, why_cap, "probe sent %zu of %zu result bytes", got, result_size);
    } else {
        st = ACCEL_OK; /* complete result and a clean exit (or an exit we could not observe: SIGCHLD ignored) */
    }
    if (st != ACCEL_OK) memset(result, 0, result_size);
    return st;
}
