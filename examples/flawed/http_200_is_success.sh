#!/bin/sh
# DELIBERATELY FLAWED client: treats any HTTP 200 as "delivered".
#
# The request is right (a form, token in the query), but Baidu answers every error with HTTP 200 and
# an envelope: {"errno":90001,...} or {"error_code":110,...}. This script never reads the body, so it
# reports errors as deliveries, never refreshes its token, and fetches a new token for every send.
# The contract kit must catch it. Do not copy it; see examples/shell/send.sh.
set -u
base=${SMARTAPP_BASE_URL%/}
token=$(curl -sS --max-time 3 -G "$base/oauth/2.0/token" --data-urlencode grant_type=client_credentials \
	--data-urlencode "client_id=$SMARTAPP_CLIENT_ID" --data-urlencode "client_secret=$SMARTAPP_CLIENT_SECRET" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
if [ "$SMARTAPP_MSG_TYPE" = image ]; then field=pic_url value=$SMARTAPP_PIC_URL; else field=content value=$SMARTAPP_CONTENT; fi
status=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "$base/rest/2.0/smartapp/message/custom/send" \
	--url-query "access_token=$token" --data-urlencode "user_type=$SMARTAPP_USER_TYPE" \
	--data-urlencode "open_id=$SMARTAPP_OPEN_ID" --data-urlencode "msg_type=$SMARTAPP_MSG_TYPE" \
	--data-urlencode "$field=$value")
[ "$status" = 200 ] # the flaw: the body decides, not the status
