"""A local S3 (moto) for restore drills on a development machine, that is provably ours.

    python -m backup.drill start-s3 --port 5077 --dir /tmp/sanctum-drill --bucket sanctum-drill
    python -m backup.drill check-s3 --dir /tmp/sanctum-drill      # before each write
    python -m backup.drill stop-s3 --dir /tmp/sanctum-drill

`make run` keeps its own moto (the SMS stand-in, which also answers S3) on 5055 and
its inspection port on 5056, mail on 1025; the drill's default, 5077, is none of
them. Whatever the port, `start-s3` refuses one that is already taken, and
`check-s3` proves that the server answering is the moto process started here (it
owns the listening socket) and holds this drill's bucket and token, so backups can
never land in another process that dies with it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import psutil
from botocore.exceptions import ClientError

DEFAULT_PORT = 5077
TOKEN_KEY = "drill-identity/token"


class DrillError(Exception):
    pass


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def listener_pid(port: int) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            return conn.pid
    return None


def moto_command(port: int) -> list[str]:
    beside = Path(sys.executable).parent / "moto_server"
    return [str(beside) if beside.exists() else "moto_server", "-H", "127.0.0.1", "-p", str(port)]


def _state_file(directory: Path) -> Path:
    return directory / "s3.json"


def _client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "drill"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "drill"),
    )


def start(port: int, directory: Path, bucket: str, timeout: float = 30) -> dict:
    if port_taken(port):
        owner = listener_pid(port)
        name = psutil.Process(owner).name() if owner else "another process"
        raise DrillError(
            f"port {port} is already taken by {name} (pid {owner}): choose another with"
            f" DRILL_S3_PORT, or stop it; the drill never writes to a server it did not start"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "moto.log", "ab") as log_file:
        proc = subprocess.Popen(
            moto_command(port), stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while not port_taken(port):
        if proc.poll() is not None:
            raise DrillError(f"moto exited with {proc.returncode}; see {directory / 'moto.log'}")
        if time.monotonic() > deadline:
            proc.kill()
            raise DrillError(f"moto did not open port {port} within {timeout:.0f}s")
        time.sleep(0.1)
    try:
        return _prepare(proc, port, directory, bucket)
    except Exception:
        proc.kill()  # never leave a moto nobody will stop
        raise


def _prepare(proc: subprocess.Popen, port: int, directory: Path, bucket: str) -> dict:
    state = {
        "pid": proc.pid,
        "port": port,
        "endpoint": f"http://127.0.0.1:{port}",
        "bucket": bucket,
        "token": secrets.token_hex(16),
    }
    s3 = _client(state["endpoint"])
    _check_owner(state)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key=TOKEN_KEY, Body=state["token"].encode())
    _state_file(directory).write_text(json.dumps(state, indent=2))
    check(directory)
    return state


def _check_owner(state: dict) -> None:
    pid = listener_pid(state["port"])
    if pid != state["pid"]:
        raise DrillError(
            f"port {state['port']} is answered by pid {pid}, not by the drill's moto"
            f" (pid {state['pid']}): not writing there"
        )


def check(directory: Path) -> dict:
    """The answering server is our moto and holds our bucket and token."""
    path = _state_file(directory)
    if not path.exists():
        raise DrillError(f"no drill S3 started in {directory} (run start-s3 first)")
    state = json.loads(path.read_text())
    if not psutil.pid_exists(state["pid"]):
        raise DrillError(f"the drill's moto (pid {state['pid']}) is not running")
    _check_owner(state)
    body = _client(state["endpoint"]).get_object(Bucket=state["bucket"], Key=TOKEN_KEY)["Body"]
    if body.read().decode() != state["token"]:
        raise DrillError("the S3 answering holds another drill's token: not writing there")
    return state


def stop(directory: Path) -> None:
    path = _state_file(directory)
    if not path.exists():
        return
    state = json.loads(path.read_text())
    try:
        process = psutil.Process(state["pid"])
        process.terminate()
        process.wait(10)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        process.kill()
    path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backup.drill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start-s3", "check-s3", "stop-s3"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, required=True, help="the drill's working directory")
        if name == "start-s3":
            p.add_argument("--port", type=int, default=DEFAULT_PORT)
            p.add_argument("--bucket", default="sanctum-drill")
    args = parser.parse_args(argv)
    try:
        if args.command == "start-s3":
            state = start(args.port, args.dir, args.bucket)
            print(f"drill S3: moto pid {state['pid']} on {state['endpoint']}, bucket {state['bucket']}")
        elif args.command == "check-s3":
            state = check(args.dir)
            print(f"drill S3 checked: {state['endpoint']} is the drill's moto (pid {state['pid']})")
        else:
            stop(args.dir)
            print("drill S3 stopped")
    except (DrillError, ClientError) as error:
        print(f"drill: {error}", file=sys.stderr)
        return 8
    return 0


if __name__ == "__main__":
    sys.exit(main())
