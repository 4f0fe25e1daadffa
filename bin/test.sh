#!/usr/bin/env bash
# Smoke test of a RUNNING service (start it with bin/start.sh): sends an SMS, an MMS and an email,
# posts an inbound SMS, MMS and email webhook, lists conversations and reads a conversation's messages.
# Exits non-zero with a clear message on the first failure.
#   HATCH_API_URL   base URL of the API (default http://127.0.0.1:8080)
#   HATCH_API_KEY   Bearer key, when the API requires one
#   WEBHOOK_SECRET  signs the webhooks, when the API enforces signatures
set -euo pipefail
BASE="${HATCH_API_URL:-http://127.0.0.1:8080}"
RUN="$(date +%s)-$$"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

auth=()
[ -n "${HATCH_API_KEY:-}" ] && auth=(-H "Authorization: Bearer $HATCH_API_KEY")

# post <path> <json> <expected status> [signed]
post() {
  local path="$1" body="$2" want="$3" signed="${4:-}"
  local headers=(-H 'Content-Type: application/json')
  if [ -n "$signed" ] && [ -n "${WEBHOOK_SECRET:-}" ]; then
    local ts sig
    ts="$(date +%s)"
    sig="$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex | sed 's/^.*= //')"
    headers+=(-H "X-Hatch-Timestamp: $ts" -H "X-Hatch-Signature: v1=$sig")
  fi
  local status
  status="$(curl -sS -o "$TMP/body" -w '%{http_code}' -X POST "${auth[@]}" "${headers[@]}" --data "$body" "$BASE$path")" \
    || fail "POST $path: could not connect to $BASE (is bin/start.sh running?)"
  [ "$status" = "$want" ] || fail "POST $path answered $status, expected $want: $(cat "$TMP/body")"
}

get() {
  local path="$1" status
  status="$(curl -sS -o "$TMP/body" -w '%{http_code}' "${auth[@]}" "$BASE$path")" || fail "GET $path: could not connect to $BASE"
  [ "$status" = "200" ] || fail "GET $path answered $status: $(cat "$TMP/body")"
}

json() { node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k], b); if (v===undefined||v===null) process.exit(3); console.log(typeof v==="object"?JSON.stringify(v):v)' "$TMP/body" "$1"; }

curl -fsS "$BASE/health" >/dev/null 2>&1 || fail "$BASE/health does not answer: start the service with bin/start.sh"

NOW="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
post /api/messages/sms "{\"from\":\"+12016661234\",\"to\":\"+18045551234\",\"type\":\"sms\",\"body\":\"smoke sms $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 202
SMS_ID="$(json id)" || fail "send SMS: no id in $(cat "$TMP/body")"
CONVERSATION="$(json conversationId)" || fail "send SMS: no conversationId"
POSITION="$(json position)" || fail "send SMS: no position"
[ "$(json status)" = "queued" ] || fail "send SMS: status is not queued"
ok "sent SMS $SMS_ID in conversation $CONVERSATION"

post /api/messages/sms "{\"from\":\"+12016661234\",\"to\":\"+18045551234\",\"type\":\"mms\",\"body\":\"smoke mms $RUN\",\"attachments\":[\"https://example.com/cat.png\"],\"timestamp\":\"$NOW\"}" 202
ok "sent MMS $(json id)"

post /api/messages/email "{\"from\":\"user@usehatchapp.com\",\"to\":\"contact@gmail.com\",\"body\":\"<html><body>smoke email <b>$RUN</b></body></html>\",\"attachments\":[\"https://example.com/document.pdf\"],\"timestamp\":\"$NOW\"}" 202
ok "sent email $(json id)"

post /api/webhooks/sms "{\"from\":\"+18045551234\",\"to\":\"+12016661234\",\"type\":\"sms\",\"messaging_provider_id\":\"smoke-sms-$RUN\",\"body\":\"reply $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 200 signed
ok "inbound SMS accepted"
post /api/webhooks/sms "{\"from\":\"+18045551234\",\"to\":\"+12016661234\",\"type\":\"sms\",\"messaging_provider_id\":\"smoke-sms-$RUN\",\"body\":\"reply $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 200 signed
ok "re-delivered inbound SMS accepted (appends nothing)"
post /api/webhooks/sms "{\"from\":\"+18045551234\",\"to\":\"+12016661234\",\"type\":\"mms\",\"messaging_provider_id\":\"smoke-mms-$RUN\",\"body\":\"photo $RUN\",\"attachments\":[\"https://example.com/photo.jpg\"],\"timestamp\":\"$NOW\"}" 200 signed
ok "inbound MMS accepted"
post /api/webhooks/email "{\"from\":\"[contact@gmail.com](mailto:contact@gmail.com)\",\"to\":\"user@usehatchapp.com\",\"xillio_id\":\"smoke-email-$RUN\",\"body\":\"<html><body>reply $RUN</body></html>\",\"attachments\":[],\"timestamp\":\"$NOW\"}" 200 signed
ok "inbound email accepted"

post /api/messages/sms '{"from":"not-a-number","to":"+18045551234","type":"sms","body":"x","attachments":null,"timestamp":"2024-11-01T14:00:00Z"}' 400
grep -q 'from' "$TMP/body" || fail "invalid send: the problem does not name the field: $(cat "$TMP/body")"
ok "invalid send rejected with 400 naming the field"

get "/api/conversations?participant=%2B18045551234&after=$POSITION"
node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const list=b.items ?? b.data ?? b; if(!Array.isArray(list)||!list.some(c=>c.id===process.argv[2])) process.exit(1)' "$TMP/body" "$CONVERSATION" \
  || fail "the conversation $CONVERSATION is not listed: $(head -c 500 "$TMP/body")"
ok "conversation listed"

for _ in $(seq 1 50); do
  get "/api/conversations/$CONVERSATION/messages"
  if grep -q "reply $RUN" "$TMP/body" && grep -q "smoke sms $RUN" "$TMP/body"; then break; fi
  sleep 0.1
done
grep -q "smoke sms $RUN" "$TMP/body" || fail "the sent SMS is not in its conversation: $(head -c 500 "$TMP/body")"
grep -q "reply $RUN" "$TMP/body" || fail "the inbound reply is not in the same conversation: $(head -c 500 "$TMP/body")"
ok "conversation $CONVERSATION holds the SMS and the reply"

# Opt-out: the contact texts STOP → a send to them is refused (422, nothing appended); START restores it.
CONTACT="+1804555$(printf '%04d' $((RANDOM % 10000)))"
post /api/webhooks/sms "{\"from\":\"$CONTACT\",\"to\":\"+12016661234\",\"type\":\"sms\",\"messaging_provider_id\":\"smoke-stop-$RUN\",\"body\":\"Stop\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 200 signed
post /api/messages/sms "{\"from\":\"+12016661234\",\"to\":\"$CONTACT\",\"type\":\"sms\",\"body\":\"after stop $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 422
grep -q 'recipient-opted-out' "$TMP/body" || fail "send after STOP: not a recipient-opted-out problem: $(cat "$TMP/body")"
ok "STOP opts out: send refused with 422 recipient-opted-out"
post /api/webhooks/sms "{\"from\":\"$CONTACT\",\"to\":\"+12016661234\",\"type\":\"sms\",\"messaging_provider_id\":\"smoke-start-$RUN\",\"body\":\"START\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 200 signed
post /api/messages/sms "{\"from\":\"+12016661234\",\"to\":\"$CONTACT\",\"type\":\"sms\",\"body\":\"after start $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\"}" 202
ok "START opts back in: send accepted"

# Scheduled send: accepted as scheduled, cancelled while still scheduled.
SEND_AT="$(node -e 'console.log(new Date(Date.now() + 120000).toISOString().replace(/\.\d+Z$/, "Z"))')"
post /api/messages/sms "{\"from\":\"+12016661234\",\"to\":\"+18045551234\",\"type\":\"sms\",\"body\":\"scheduled $RUN\",\"attachments\":null,\"timestamp\":\"$NOW\",\"send_at\":\"$SEND_AT\"}" 202
[ "$(json status)" = "scheduled" ] || fail "scheduled send: status is not scheduled: $(cat "$TMP/body")"
SCHEDULED_ID="$(json id)"
status="$(curl -sS -o "$TMP/body" -w '%{http_code}' -X DELETE "${auth[@]}" "$BASE/api/messages/$SCHEDULED_ID")" || fail "DELETE: could not connect"
[ "$status" = "200" ] && [ "$(json status)" = "cancelled" ] || fail "cancel scheduled send answered $status: $(cat "$TMP/body")"
ok "scheduled send $SCHEDULED_ID for $SEND_AT cancelled"

echo "smoke test passed against $BASE"
