"""The fork template of one local-lambdas Python function (docs/cold-starts.md, ADR 0013).

The gateway starts it as ``PYTHON [OPTIONS] template.py [SCRIPT | -m MODULE] ARGS...`` (the
function's own command with this file put in front of its program). It imports the SDK and the
modules named in ``<preload>`` once, connects to the gateway, and then creates an instance whenever
the gateway asks: the instance is a copy of this process that starts the function's program as a
plain start would (same argv, environment, working directory, ``__main__``), minus the imports.

Each instance is created with clone(CLONE_PARENT), so its parent is the gateway, exactly as for a
plain start: the gateway reaps it, its parent-death signal (set here, as setpriv sets it) fires when
the gateway dies, and it owes nothing to this process after the clone (a template that dies or is
restarted leaves its instances alone). It leads a session of its own (setsid) and writes to pipes
the gateway made for it.

Wire (Unix socket named by LOCAL_LAMBDAS_TEMPLATE): this process first writes one line,
``ready`` or ``unsupported REASON`` (then it exits 3). Each request is a 4-byte big-endian length
and that many bytes: NUL-separated UTF-8 strings, the paths of the instance's stdout and stderr
(the gateway's pipe ends under /proc) and then NAME=VALUE environment entries. Each answer is one
line: ``pid N``, ``error REASON`` (nothing was created) or ``stale REASON`` (a preloaded module's
file changed: this process exits and the gateway starts a fresh template).
"""

import ctypes
import importlib
import os
import platform
import signal
import socket
import struct
import sys
import threading

CLONE_PARENT = 0x00008000
SIGCHLD = 17
PR_SET_PDEATHSIG = 1
# clone takes its flags first on every architecture listed; the other arguments are all zero.
SYS_CLONE = {"x86_64": 56, "aarch64": 220, "riscv64": 220}
LENGTH = struct.Struct(">I")


class _Become(BaseException):
    """Raised in a new instance to leave the template's loop and run the function instead."""

    def __init__(self, argv, module):
        super().__init__()
        self.argv = argv
        self.module = module


def _send(sock, line):
    sock.sendall((line.replace("\n", " ") + "\n").encode("utf-8", "replace"))


def _recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _program(argv):
    """(module, script) of the function's command line after the interpreter options."""
    if argv and argv[0] == "-m" and len(argv) > 1:
        return argv[1], None
    return None, argv[0]


def _unsupported(libc):
    if not sys.platform.startswith("linux"):
        return "fork templates need Linux (clone with CLONE_PARENT, prctl); this is " + sys.platform
    if platform.machine() not in SYS_CLONE:
        return "no clone system call number known for " + platform.machine()
    if libc is None:
        return "the C library cannot be loaded through ctypes"
    return None


def _file_times():
    times = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path:
            try:
                times[path] = os.stat(path).st_mtime_ns
            except OSError:
                pass
    return times


def _changed(times):
    for path, mtime in times.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return path
        except OSError:
            return path
    return None


def main():
    address = os.environ.pop("LOCAL_LAMBDAS_TEMPLATE")
    sdk = os.environ.pop("LOCAL_LAMBDAS_TEMPLATE_SDK", "")
    preload = [m for m in os.environ.pop("LOCAL_LAMBDAS_TEMPLATE_PRELOAD", "").split(",") if m]
    gateway = os.getppid()
    argv = sys.argv[1:]
    module, script = _program(argv)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        libc = None
    reason = _unsupported(libc)
    if reason:
        _send(sock, "unsupported " + reason)
        sys.exit(3)
    # What a plain start would have as sys.path[0]: the script's directory, or for -m the
    # working directory; the SDK's directory only while it is imported.
    sys.path[0] = os.getcwd() if module else os.path.dirname(os.path.realpath(script))
    if sdk:
        sys.path.append(sdk)
    try:
        import local_lambdas  # noqa: F401  (preloaded for the instances)
    finally:
        if sdk:
            sys.path.remove(sdk)
    for name in preload:
        importlib.import_module(name)
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    native = len(os.listdir("/proc/self/task")) - 1
    if threads or native:
        # A clone copies only the calling thread: what the others do would be missing (or
        # deadlock on a lock they held) in every instance; and no atfork handler runs.
        _send(
            sock,
            "unsupported the preloaded modules started %d thread(s)%s"
            % (max(native, len(threads)), " (" + ", ".join(threads) + ")" if threads else ""),
        )
        sys.exit(3)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    number = SYS_CLONE[platform.machine()]
    times = _file_times()
    _send(sock, "ready")
    while True:
        head = _recv_exact(sock, LENGTH.size)
        if head is None:
            return  # the gateway is gone or let us go
        payload = _recv_exact(sock, LENGTH.unpack(head)[0])
        if payload is None:
            return
        stale = _changed(times)
        if stale:
            _send(sock, "stale " + stale + " changed")
            return
        parts = payload.decode("utf-8", "surrogateescape").split("\0")
        try:
            out = os.open(parts[0], os.O_WRONLY | os.O_CLOEXEC)
            try:
                err = os.open(parts[1], os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                os.close(out)
                raise
        except OSError as e:
            _send(sock, "error cannot open the instance's output: %s" % e)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = syscall(number, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0)
        if pid == 0:
            _instance(libc, sock, gateway, out, err, parts[2:])
            raise _Become(argv, module)
        errno = ctypes.get_errno()
        os.close(out)
        os.close(err)
        if pid < 0:
            _send(sock, "error clone failed: %s" % os.strerror(errno))
        else:
            _send(sock, "pid %d" % pid)


def _retitle():
    """Makes /proc/PID/cmdline (ps, top) show the plain start's command: the template's own minus
    this script. The kernel reads it from the argument area of the stack, rewritten in place
    (as setproctitle does); the area keeps its length, the rest is NULs."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
        with open("/proc/self/cmdline", "rb") as f:
            words = f.read().split(b"\0")[:-1]
        me = os.fsencode(sys.argv[0])  # this script, as the gateway named it
        if me in words:
            words.remove(me)
        title = b"\0".join(words)[: end - start - 1]
        area = title + b"\0" * (end - start - len(title))
        ctypes.memmove(start, area, len(area))
    except (OSError, ValueError, IndexError):
        pass  # cosmetic only


def _instance(libc, sock, gateway, out, err, environment):
    """In the new instance: becomes what a plain start would have made, or exits."""
    try:
        os.setsid()
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != gateway:
            os._exit(1)  # the gateway died before the parent-death signal was armed
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        sock.close()
        for entry in environment:
            name, _, value = entry.partition("=")
            if name:
                os.environ[name] = value
        # What os.fork would have done for modules that registered for it (random's state would
        # otherwise be the same in every instance).
        if "random" in sys.modules:
            sys.modules["random"].seed()
        _retitle()
    except BaseException:  # noqa: B036 - nothing of the template's may run on in an instance
        try:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(127)


if __name__ == "__main__":
    become = None
    try:
        main()
    except _Become as instance:
        become = instance  # run outside the handler, so the function's errors chain to nothing
    if become is not None:
        import runpy

        become.__traceback__ = None
        if become.module:
            sys.argv = [become.module] + become.argv[2:]
            runpy.run_module(become.module, run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(become.argv)
            runpy.run_path(become.argv[0], run_name="__main__")
