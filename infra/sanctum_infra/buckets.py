"""A private S3 bucket: KMS encryption, versioning, no public access, TLS only, lifecycle."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .base import Tier, policy_document, statement

LifecycleRule = aws.s3.BucketLifecycleConfigurationRuleArgsDict


def private_bucket(
    tier: Tier,
    name: str,
    kms_key_arn: pulumi.Input[str],
    rules: Sequence[LifecycleRule],
) -> aws.s3.Bucket:
    """Declares the bucket and its settings as children of `tier`; the bucket is protected."""
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket_prefix=f"{tier.settings.prefix}-{name}-",
        force_destroy=False,
        tags=tier.tags(f"{name}-bucket"),
        opts=tier.protected(),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.bucket,
        rules=[{
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            },
            "bucket_key_enabled": True,
        }],
        opts=tier.child(),
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=tier.child(),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.bucket,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=tier.child(),
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.bucket,
        versioning_configuration={"status": "Enabled"},
        opts=tier.child(),
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.bucket,
        policy=policy_document(statement(
            ["s3:*"],
            [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
            effect="Deny",
            principal={"AWS": "*"},
            condition={"Bool": {"aws:SecureTransport": "false"}},
            sid="DenyPlainHttp",
        )),
        opts=tier.child(),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle", bucket=bucket.bucket, rules=list(rules), opts=tier.child()
    )
    return bucket


def abort_uploads_rule() -> LifecycleRule:
    return {
        "id": "abort-incomplete-uploads",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }
