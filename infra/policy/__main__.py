"""Policy pack: `pulumi preview --stack phaseN --policy-pack policy` (run from infra/)."""

from guardrails import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="sanctum-guardrails", policies=POLICIES)
