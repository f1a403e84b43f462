#!/bin/sh
# Send one Baidu Smart Mini Program customer-service message (发送客服消息) with curl.
#
# Configured by environment variables: SMARTAPP_BASE_URL (default https://openapi.baidu.com),
# SMARTAPP_CLIENT_ID, SMARTAPP_CLIENT_SECRET, SMARTAPP_USER_TYPE, SMARTAPP_OPEN_ID, SMARTAPP_MSG_TYPE,
# SMARTAPP_CONTENT, SMARTAPP_PIC_URL, and optionally SMARTAPP_TOKEN_CACHE (a file to keep the access
# token in between runs; keep it private, it is a credential).
#
# Exit status 0 when delivered, 1 when not; the last line of stdout is JSON: {"errno":0},
# {"errno":90001}, {"error_code":110} or {"error":"..."}.
#
# The token is cached (it lives 30 days); on error_code 110/111 a new one is fetched and the send
# retried once. Nothing else is retried: a business error is final, and re-sending after a transport
# failure may deliver the message twice and use up the user's five replies.
#
# Needs curl 7.87 or newer (--url-query).
#
# A shell cannot parse JSON properly: the answers are compact one-line objects, and this script
# checks that an answer is a whole object before it reads a number out of it.
set -u

base=${SMARTAPP_BASE_URL:-https://openapi.baidu.com}
base=${base%/}
cache=${SMARTAPP_TOKEN_CACHE:-}
timeout=${SMARTAPP_TIMEOUT:-3} # seconds: 3 like Baidu's Go SDK, or what the contract kit allows

fail() { # fail KEY VALUE MESSAGE
	echo "not delivered: $3" >&2
	if [ "$1" = error ]; then printf '{"error":"%s"}\n' "$2"; else printf '{"%s":%s}\n' "$1" "$2"; fi
	exit 1
}

# number KEY BODY: the integer value of "KEY" in a one-line JSON object, or nothing.
number() {
	printf '%s' "$2" | sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*\(-\{0,1\}[0-9][0-9]*\).*/\1/p'
}

# whole BODY: true when BODY is a complete JSON object (starts with { and ends with }).
whole() {
	case $(printf '%s' "$1" | tr -d '\n\r' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//') in
	'{'*'}') return 0 ;;
	*) return 1 ;;
	esac
}

fetch_token() {
	body=$(curl -sS --max-time "$timeout" -G "$base/oauth/2.0/token" \
		--data-urlencode grant_type=client_credentials \
		--data-urlencode "client_id=${SMARTAPP_CLIENT_ID:-}" \
		--data-urlencode "client_secret=${SMARTAPP_CLIENT_SECRET:-}" \
		--data-urlencode scope=smartapp_snsapi_base) || fail error token "token request failed"
	token=$(printf '%s' "$body" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
	[ -n "$token" ] || fail error token "no access_token in the answer: $body"
	expires_in=$(number expires_in "$body")
	if [ -n "$cache" ]; then
		# Renew a minute early so that a token never expires in flight.
		(umask 077 && printf '%s %s\n' "$token" $(($(date +%s) + ${expires_in:-2592000} - 60)) >"$cache.tmp") &&
			mv "$cache.tmp" "$cache"
	fi
}

cached_token() {
	token=
	[ -n "$cache" ] && [ -f "$cache" ] || return 1
	read -r t exp <"$cache" || return 1
	[ -n "$t" ] && [ "$(date +%s)" -lt "${exp:-0}" ] || return 1
	token=$t
}

# send_once: sets answer to the body of a 200 answer, or fails.
send_once() {
	if [ "${SMARTAPP_MSG_TYPE:-text}" = image ]; then
		field=pic_url value=${SMARTAPP_PIC_URL:-}
	else
		field=content value=${SMARTAPP_CONTENT:-}
	fi
	out=$(curl -sS --max-time "$timeout" -w '\n%{http_code}' \
		"$base/rest/2.0/smartapp/message/custom/send" --url-query "access_token=$token" \
		--data-urlencode "user_type=${SMARTAPP_USER_TYPE:-1}" \
		--data-urlencode "open_id=${SMARTAPP_OPEN_ID:-}" \
		--data-urlencode "msg_type=${SMARTAPP_MSG_TYPE:-text}" \
		--data-urlencode "$field=$value") || fail error transport "send request failed (curl exit $?)"
	status=$(printf '%s' "$out" | tail -n 1)
	answer=$(printf '%s' "$out" | sed '$d')
	[ "$status" = 200 ] || fail error "http_$status" "HTTP $status"
	whole "$answer" || fail error malformed "unreadable answer: $answer"
}

cached_token || fetch_token
send_once
code=$(number error_code "$answer")
if [ "$code" = 110 ] || [ "$code" = 111 ]; then
	fetch_token
	send_once
	code=$(number error_code "$answer")
fi
[ -z "$code" ] || fail error_code "$code" "$answer"
errno=$(number errno "$answer")
[ -n "$errno" ] || fail error malformed "answer has neither errno nor error_code: $answer"
[ "$errno" = 0 ] || fail errno "$errno" "$answer"
echo '{"errno":0}'
