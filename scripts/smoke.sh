#!/usr/bin/env bash
# Smoke test of a running SanctumTools API: the delivery pipeline runs it after each
# deploy, and it works against `make run` too:
#
#   scripts/smoke.sh http://127.0.0.1:8000
#   scripts/smoke.sh https://staging.api.example.com
#
# Health, readiness, a registration, a log-in, a mood shift and reading it back; then the
# throw-away account is deleted again. Any failure stops with a message naming the step
# and a non-zero exit. Needs curl and python3. Prints no tokens and no health data.
set -euo pipefail

usage() { echo "usage: $0 URL   (the API's base URL, e.g. http://127.0.0.1:8000)" >&2; exit 2; }
[ $# -eq 1 ] || usage
BASE=${1%/}
case "$BASE" in http://*|https://*) ;; *) usage ;; esac
API=$BASE/api/v1
TIMEOUT=${SMOKE_TIMEOUT:-15}

for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "[smoke] FAIL: $tool is needed" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STEP=""

fail() {
    echo "[smoke] FAIL at '$STEP': $*" >&2
    exit 1
}

# What an answer says, without echoing the data in it: an error's code and message, or
# the fields a JSON answer has, or the start of anything else.
summary() {
    python3 - "$WORK/body" <<'PY'
import json, sys
text = open(sys.argv[1], errors="replace").read()
try:
    answer = json.loads(text)
except ValueError:
    print(text[:200].replace("\n", " "))
else:
    if isinstance(answer, dict) and "error" in answer:
        print(answer.get("error"), "-", answer.get("message", ""))
    elif isinstance(answer, dict):
        print("fields:", ", ".join(sorted(answer)))
    else:
        print(type(answer).__name__)
PY
}

# request METHOD PATH EXPECTED_STATUS [JSON_BODY] [extra curl args...]: the body lands in
# $WORK/body; a transport error or another status fails the step.
request() {
    local method=$1 url=$2 expected=$3 body=${4:-}
    shift 4 || shift $#
    local args=(-sS -o "$WORK/body" -w '%{http_code}' --max-time "$TIMEOUT" -X "$method")
    [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    local status
    status=$(curl "${args[@]}" "$@" "$url" 2>"$WORK/curl-error") \
        || fail "no answer from $url ($(head -c 300 "$WORK/curl-error"))"
    if [ "$status" != "$expected" ]; then
        fail "$method $url answered $status, expected $expected: $(summary)"
    fi
}

# field NAME: a top-level field of the last JSON answer.
field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$WORK/body" "$1" 2>/dev/null || fail "the answer has no '$1' ($(summary))"
}

step() { STEP=$1; printf '[smoke] %-34s' "$1"; }
ok() { echo "ok"; }

step "health"
request GET "$BASE/health" 200
ok

step "ready (database, cache, broker)"
request GET "$BASE/ready" 200
ok

SUFFIX=$(python3 -c 'import secrets; print(secrets.token_hex(6))')
EMAIL="smoke-$SUFFIX@example.com"
PASSWORD="smoke test passphrase $SUFFIX"
CREDENTIALS="{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"

step "register"
request POST "$API/auth/register" 201 \
    "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\", \"display_name\": \"Smoke test\", \"timezone\": \"UTC\"}"
ok

step "log in"
request POST "$API/auth/login" 200 "$CREDENTIALS"
TOKEN=$(field access_token)
ok

# The account goes again however the rest ends (it is a throw-away smoke user).
delete_account() {
    curl -sS -o /dev/null --max-time "$TIMEOUT" -X DELETE -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data "{\"password\": \"$PASSWORD\"}" \
        "$API/account" || true
}
trap 'delete_account; rm -rf "$WORK"' EXIT

step "log a mood shift"
request POST "$API/mood/shift" 201 \
    '{"previous": {"level": 0}, "current": {"level": 1, "state": "content"}, "intensity": 3}' \
    -H "Idempotency-Key: smoke-$SUFFIX"
SHIFT_ID=$(field shift_id)
ok

step "read it back"
request GET "$API/mood/shifts?limit=5" 200
python3 -c '
import json, sys
items = json.load(open(sys.argv[1])).get("items", [])
sys.exit(0 if any(item.get("shift_id") == sys.argv[2] for item in items) else 1)
' "$WORK/body" "$SHIFT_ID" || fail "the new shift is not in GET /mood/shifts"
ok

step "delete the smoke account"
request DELETE "$API/account" 204 "{\"password\": \"$PASSWORD\"}"
trap 'rm -rf "$WORK"' EXIT
ok

echo "[smoke] PASS $BASE"
