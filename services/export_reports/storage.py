"""Where export files live: S3 (a local moto server under `make run` and in the
tests), encrypted, under keys that name no person, linked by presigned URLs."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.kit import config, service_auth


@dataclass(frozen=True)
class ExportSettings:
    SECTION = "EXPORTS"
    bucket: str
    s3_endpoint_url: str
    aws_region: str
    sse: str
    kms_key_id: str
    link_minutes: int
    keep_days: int
    claim_lease_seconds: int
    sweep_every_seconds: float


def settings() -> ExportSettings:
    return config.settings(ExportSettings)


class Store:
    def __init__(self):
        chosen = settings()
        self.bucket = chosen.bucket
        self.sse = chosen.sse
        self.kms_key_id = chosen.kms_key_id
        self.link_seconds = chosen.link_minutes * 60
        self.s3 = boto3.client("s3", endpoint_url=chosen.s3_endpoint_url or None,
                               region_name=chosen.aws_region,
                               config=Config(retries={"max_attempts": 3, "mode": "standard"}))
        if chosen.s3_endpoint_url:
            self._ensure_local_bucket(chosen.aws_region)

    def _ensure_local_bucket(self, region: str) -> None:
        """Only against a local endpoint: in AWS the bucket is infra's (with its lifecycle rule)."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            # Two instances starting together both find no bucket; the second to
            # create it is told it already has it, which is what it wanted.
            with contextlib.suppress(self.s3.exceptions.BucketAlreadyOwnedByYou):
                self.s3.create_bucket(Bucket=self.bucket,
                                      CreateBucketConfiguration={"LocationConstraint": region})

    @staticmethod
    def prefix(user_id: str) -> str:
        return f"exports/{service_auth.pseudonym('exports', user_id)}/"

    def key_for(self, user_id: str, job_id: str, extension: str) -> str:
        return f"{self.prefix(user_id)}{job_id}.{extension}"

    def put(self, key: str, path: str, media_type: str) -> int:
        extra = {"ContentType": media_type}
        if self.sse:
            extra["ServerSideEncryption"] = self.sse
            if self.kms_key_id:
                extra["SSEKMSKeyId"] = self.kms_key_id
        self.s3.upload_file(path, self.bucket, key, ExtraArgs=extra)
        return self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]

    def link(self, key: str, filename: str) -> str:
        return self.s3.generate_presigned_url("get_object", ExpiresIn=self.link_seconds, Params={
            "Bucket": self.bucket, "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                removed += len(keys)
        return removed
