#!/bin/sh
# The client service of the docker-compose example: a stand-in for your application. It reaches the
# fake by its service name (SMARTAPP_API_BASE), gets a token, sends one reply that succeeds and one
# that fails, and prints each answer. POSIX sh and curl only.
set -eu

base=${SMARTAPP_API_BASE:-http://smartappmock:8080}
client_id=${SMARTAPP_CLIENT_ID:-compose-client-id}
client_secret=${SMARTAPP_CLIENT_SECRET:-compose-client-secret}

# Wait (bounded) for the fake, in case the client starts first.
i=0
until curl -fsS "$base/__admin/health" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 50 ]; then echo "client: $base is not healthy after 10s" >&2; exit 1; fi
  sleep 0.2
done

token_json=$(curl -fsS "$base/oauth/2.0/token?grant_type=client_credentials&client_id=$client_id&client_secret=$client_secret&scope=smartapp_snsapi_base")
token=$(printf '%s' "$token_json" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then echo "client: no access_token in $token_json" >&2; exit 1; fi
echo "client: got a token for app ${token##*-}"

send() { # open_id content
  curl -fsS "$base/rest/2.0/smartapp/message/custom/send?access_token=$token" \
    --data-urlencode user_type=2 --data-urlencode "open_id=$1" \
    --data-urlencode msg_type=text --data-urlencode "content=$2"
}

ok=$(send u-alice "Hello from the compose client")
echo "client: reply to u-alice -> $ok"
case $ok in *'"errno":0'*) ;; *) echo "client: expected errno 0" >&2; exit 1 ;; esac

bad=$(send u-alice "boom")
echo "client: reply containing boom -> $bad"
case $bad in *'"errno":90002'*) ;; *) echo "client: expected errno 90002" >&2; exit 1 ;; esac

echo "client: done; see the journal at $base/__admin/requests"
