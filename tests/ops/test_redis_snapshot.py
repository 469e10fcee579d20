"""Redis snapshot round trip: BGSAVE -> S3 -> a fresh Redis holds the same data."""

from __future__ import annotations

import json

import redis
from conftest import last_backup_id


def _fill(client: redis.Redis) -> None:
    client.set("session:1", "x" * 1000)
    client.set("ratelimit:login:42", 3, ex=3600)
    client.hset("user:7", mapping={"tz": "Europe/Paris", "locale": "fr"})
    client.rpush("queue:reminders", *range(50))
    client.sadd("flags", "a", "b", "c")
    client.zadd("scores", {"m": 1.5, "n": -2})
    client.xadd("stream:events", {"type": "mood.logged", "id": "e1"})
    for i in range(500):
        client.set(f"cache:{i}", i)
    client.select(1)
    client.set("other-db", "1")


def _digest(port: int) -> tuple[dict, str]:
    client = redis.Redis(port=port)
    keyspace = {db: stats["keys"] for db, stats in client.info("keyspace").items()}
    return keyspace, client.execute_command("DEBUG", "DIGEST")


def test_snapshot_round_trip(redis_factory, backup_cli, tmp_path, s3, bucket):
    source_port = redis_factory(tmp_path / "source")
    _fill(redis.Redis(port=source_port))
    expected = _digest(source_port)

    backed_up = backup_cli("redis", env={"REDIS_URL": f"redis://127.0.0.1:{source_port}/0"})
    assert backed_up.returncode == 0, backed_up.stderr
    backup_id = last_backup_id(backup_cli, "redis")
    manifest = json.loads(backup_cli("show", backup_id).stdout)
    assert manifest["rdb"]["keys"] == sum(expected[0].values()) == 508
    assert (
        s3.head_object(Bucket=bucket, Key=manifest["artifact"]["key"])["ServerSideEncryption"]
        == "AES256"
    )
    assert backup_cli("verify", backup_id).returncode == 0

    target_dir = tmp_path / "target"
    target_dir.mkdir()
    restored = backup_cli("restore-redis", backup_id, "--data-dir", str(target_dir))
    assert restored.returncode == 0, restored.stderr
    assert _digest(redis_factory(target_dir)) == expected


def test_corrupt_snapshot_is_refused(redis_factory, backup_cli, tmp_path, s3, bucket):
    port = redis_factory(tmp_path / "source")
    _fill(redis.Redis(port=port))
    assert backup_cli("redis", env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}).returncode == 0
    backup_id = last_backup_id(backup_cli, "redis")
    key = json.loads(backup_cli("show", backup_id).stdout)["artifact"]["key"]
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    target_dir = tmp_path / "target"
    target_dir.mkdir()

    restored = backup_cli("restore-redis", backup_id, "--data-dir", str(target_dir))

    assert restored.returncode == 4
    assert list(target_dir.iterdir()) == []


def test_aof_in_target_is_refused_unless_forced(backup_cli, redis_factory, tmp_path):
    port = redis_factory(tmp_path / "source")
    redis.Redis(port=port).set("k", "v")
    assert backup_cli("redis", env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}).returncode == 0
    backup_id = last_backup_id(backup_cli, "redis")
    target_dir = tmp_path / "target"
    (target_dir / "appendonlydir").mkdir(parents=True)

    refused = backup_cli("restore-redis", backup_id, "--data-dir", str(target_dir))
    forced = backup_cli("restore-redis", backup_id, "--data-dir", str(target_dir), "--force")

    assert refused.returncode == 5 and "AOF" in refused.stderr
    assert forced.returncode == 0
    names = sorted(p.name for p in target_dir.iterdir())
    assert names[0].startswith("appendonlydir.before-restore-") and names[1] == "dump.rdb"
