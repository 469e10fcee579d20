"""The assistant's and its sessions' vocabulary: what the gateway validates and the
services store."""

CHANNELS = ("app", "web")
TONES = ("warm", "brief", "direct")
FRAMEWORKS = ("dbt",)
# Kinds of data a user may allow into an external model's context (each off until chosen).
SHARE_KINDS = ("mood", "diary", "medications", "episodes")
PROVIDERS = ("builtin", "external")
KNOWLEDGE_KINDS = ("warning_sign", "what_helps", "trusted_person", "other")
MAX_MESSAGE_CHARS = 2000
LOG_RETENTION_DAYS = (0, 365)   # 0 keeps no turns at all
ROLES = ("user", "assistant")
