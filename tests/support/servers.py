"""Private ``redis-server`` and ``postgres`` instances on free loopback ports, for the tests that stop them.

The fault and multi-node tests start and kill these without touching the servers the rest of the suite
(and other runs) share: a Redis master, its replica and a Sentinel; a PostgreSQL primary, a streaming
standby made with ``pg_basebackup``, and a fresh cluster to restore a dump into.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import redis

from tests.support.processes import wait_until

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A throw-away ``redis-server`` without persistence: a restart forgets every queued message.

    ``replica_of`` (another PrivateRedis) makes it that server's replica; ``sentinel_of`` (the master)
    makes it a Sentinel (``redis-server --sentinel``) watching that master under ``master_name``.
    """

    def __init__(self, workdir, *, replica_of=None, sentinel_of=None, master_name="fenghuo"):
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.replica_of, self.sentinel_of, self.master_name = replica_of, sentinel_of, master_name
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self):
        base = [shutil.which("redis-server")]
        if self.sentinel_of is not None:
            # A Sentinel rewrites its configuration file, so it needs one of its own.
            conf = self.workdir / "sentinel.conf"
            conf.write_text(
                f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\nlogfile {self.workdir / 'redis.log'}\n"
                f"sentinel monitor {self.master_name} 127.0.0.1 {self.sentinel_of.port} 1\n"
                f"sentinel down-after-milliseconds {self.master_name} 1000\n"
                f"sentinel failover-timeout {self.master_name} 5000\n"
                f"sentinel parallel-syncs {self.master_name} 1\n")
            return [*base, str(conf), "--sentinel"]
        command = [*base, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        if self.replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of.port)]
        return command

    def start(self):
        self.process = subprocess.Popen(self._command(), start_new_session=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        if not wait_until(lambda: self._answers(client), timeout=20):
            raise RuntimeError(f"redis-server did not start: {self.log()[-2000:]}")

    def log(self):
        path = self.workdir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def _answers(client):
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def client(self):
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) listening on 127.0.0.1 only.

    PostgreSQL refuses to run as root, so under root the cluster belongs to the
    ``postgres`` system user. Its directory is made with mkdtemp rather than
    under pytest's tmp_path: that one sits in a root-only (0700) folder the
    ``postgres`` user cannot enter. ``standby_of`` (a running PrivatePostgres)
    makes this cluster its streaming standby with ``pg_basebackup -R``.
    """

    def __init__(self, *, standby_of=None):
        if not PG_BINS:
            pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = PG_BINS[-1]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="fenghuo-pg-"))
        self.data = self.dir / "data"
        self.as_user = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        if standby_of is None:
            self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        else:
            self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(standby_of.port), "-U", "postgres",
                     "-D", str(self.data), "-R", "-X", "stream", "--no-sync", "-c", "fast")

    def run(self, tool, *args, timeout=120):
        result = subprocess.run([*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")
        return result.stdout

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, *, synchronous_commit="off"):
        # synchronous_commit "on" lets a primary wait for its standby (synchronous_standby_names, set later).
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   f"-c synchronous_commit={synchronous_commit} -c full_page_writes=off")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "postgres.log"), "-o", options, "-w",
                 "-t", "60", "start")

    def stop(self, mode="fast"):
        """``pg_ctl stop -m fast``: every connection is cut, as in a failover or a restart for an upgrade."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def promote(self):
        """The standby becomes the read-write primary, as Patroni or a managed service does on failover."""
        self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "promote")

    def remove(self):
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
