"""Signatures made by the providers' own official SDKs, for tests/it/sdk.rs.

Reads one JSON object from stdin and prints one JSON object:

  {"op": "keygen"}
      -> key pairs for the public-key providers (made with `cryptography`):
         {"sendgrid": {"public": b64 DER SPKI, "private": PEM}, "discord": {"public": hex, "private": hex}}

  {"op": "sign", "requests": [{"provider", "secret", "body", "timestamp", "msg_id", "url", "private"?}, ...]}
      -> {"results": [{"headers": {...}, "sdk": "<package and function used>", "sdk_accepts": bool}, ...]}
      (signed at the oracle's current time once every SDK is loaded, not at `timestamp`)

For providers whose SDK can sign (Standard Webhooks, Svix, Stripe, Slack, Paddle, HubSpot,
Twilio, Plivo, Adyen, Braintree, Box, Coinbase Commerce, Modern Treasury, Retell, and Lithic, Dodo
Payments, Anthropic, Chunkify and Linq through their `standardwebhooks` dependency; Brex and Render
with `standardwebhooks`, incident.io, Stytch and Straddle with `svix`, the reference libraries of
the scheme they send, Straddle's own SDK then checking the signature) the headers (for Adyen and
Braintree: the body, which carries the signatures) come from that SDK. For verify-only SDKs
(Square, SendGrid, Discord, Razorpay, OpenAI, EasyPost, GoCardless, Telnyx, Mailgun, Increase,
Finch, Stream, ElevenLabs, ImageKit, Whop, Sinch, Composio, Fingerprint, Castle, SignalWire, Orb,
Cloudinary, Worldline) the signature is made with a general crypto library and the official
verifier is asked whether it accepts it (`sdk_accepts`); the gateway must then accept the same
request. PayPal's (paypalrestsdk) runs from its own venv, see `sign_paypal`.
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys
import time


def keygen():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ec_private = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_public = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ed_private = ed_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return {
        "sendgrid": {"public": base64.b64encode(ec_public).decode(), "private": ec_private.decode()},
        "discord": {"public": ed_public.hex(), "private": ed_private.hex()},
        # Telnyx writes the same kind of key in base64.
        "telnyx": {"public": base64.b64encode(ed_public).decode(), "private": ed_private.hex()},
    }


def when(ts):
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)


def sign_standard_webhooks(r):
    from standardwebhooks.webhooks import Webhook

    wh = Webhook(r["secret"])
    sig = wh.sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    wh.verify(r["body"], headers)
    return headers, "standardwebhooks Webhook.sign", True


def sign_svix(r):
    from svix.webhooks import Webhook

    wh = Webhook(r["secret"])
    sig = wh.sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"svix-id": r["msg_id"], "svix-timestamp": str(r["timestamp"]), "svix-signature": sig}
    wh.verify(r["body"], headers)
    return headers, "svix Webhook.sign", True


def sign_stripe(r):
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(r["body"], r["secret"], timestamp=r["timestamp"])
    ok = stripe.WebhookSignature.verify_header(r["body"], header, r["secret"], tolerance=300)
    return {"Stripe-Signature": header}, "stripe WebhookSignature.generate_signature_header", ok


def sign_slack(r):
    from slack_sdk.signature import SignatureVerifier

    v = SignatureVerifier(r["secret"])
    ts = str(r["timestamp"])
    sig = v.generate_signature(timestamp=ts, body=r["body"])
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    return headers, "slack_sdk SignatureVerifier.generate_signature", v.is_valid(r["body"], ts, sig)


def sign_paddle(r):
    from paddle_billing.Notifications import PaddleSignature

    ts = r["timestamp"]
    h1 = PaddleSignature.calculate_hmac(r["secret"], f"{ts}:{r['body']}".encode()).hexdigest()
    return {"Paddle-Signature": f"ts={ts};h1={h1}"}, "paddle-python-sdk PaddleSignature.calculate_hmac", True


def sign_hubspot(r):
    from hubspot.utils.signature import Signature

    ts = str(r["timestamp"] * 1000)
    sig = Signature.get_signature(r["secret"], r["body"], "v3", http_uri=r["url"], http_method="POST", timestamp=ts)
    ok = Signature.is_valid(sig, r["secret"], r["body"], http_uri=r["url"], signature_version="v3", timestamp=ts)
    headers = {"X-HubSpot-Request-Timestamp": ts, "X-HubSpot-Signature-v3": sig}
    return headers, "hubspot-api-client Signature.get_signature", ok


def sign_square(r):
    from square.utils.webhooks_helper import verify_signature

    mac = hmac.new(r["secret"].encode(), (r["url"] + r["body"]).encode(), hashlib.sha256).digest()
    sig = base64.b64encode(mac).decode()
    ok = verify_signature(
        request_body=r["body"], signature_header=sig, signature_key=r["secret"], notification_url=r["url"]
    )
    return {"x-square-hmacsha256-signature": sig}, "squareup verify_signature (oracle)", ok


def sign_sendgrid(r):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from sendgrid.helpers.eventwebhook import EventWebhook

    key = serialization.load_pem_private_key(r["private"].encode(), password=None)
    ts = str(r["timestamp"])
    sig = base64.b64encode(key.sign((ts + r["body"]).encode(), ec.ECDSA(hashes.SHA256()))).decode()
    ew = EventWebhook()
    ok = ew.verify_signature(r["body"], sig, ts, ew.convert_public_key_to_ecdsa(r["secret"]))
    headers = {"X-Twilio-Email-Event-Webhook-Timestamp": ts, "X-Twilio-Email-Event-Webhook-Signature": sig}
    return headers, "sendgrid EventWebhook.verify_signature (oracle)", ok


def sign_discord(r):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from discord_interactions import verify_key

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(r["private"]))
    ts = str(r["timestamp"])
    sig = key.sign(ts.encode() + r["body"].encode()).hex()
    ok = verify_key(r["body"].encode(), sig, ts, r["secret"])
    return {"X-Signature-Timestamp": ts, "X-Signature-Ed25519": sig}, "discord-interactions verify_key (oracle)", ok


def sign_razorpay(r):
    import razorpay

    sig = hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
    client = razorpay.Client(auth=("key_id", "key_secret"))
    try:
        client.utility.verify_webhook_signature(r["body"], sig, r["secret"])
        ok = True
    except Exception:  # the SDK raises SignatureVerificationError
        ok = False
    return {"X-Razorpay-Signature": sig}, "razorpay Utility.verify_webhook_signature (oracle)", ok


def sign_twilio(r):
    from twilio.request_validator import RequestValidator
    from urllib.parse import parse_qsl

    v = RequestValidator(r["secret"])
    params = dict(parse_qsl(r["body"], keep_blank_values=True))
    sig = v.compute_signature(r["url"], params)
    return {"X-Twilio-Signature": sig}, "twilio RequestValidator.compute_signature", v.validate(r["url"], params, sig)


def sign_adyen(r):
    """Adyen signs inside the body: the SDK's signature goes into each item."""
    from Adyen.util import generate_notification_sig, is_valid_hmac_notification

    body = json.loads(r["body"])
    for entry in body["notificationItems"]:
        item = entry["NotificationRequestItem"]
        unsigned = {k: v for k, v in item.items() if k != "additionalData"}
        sig = generate_notification_sig(unsigned, r["secret"]).decode()
        item.setdefault("additionalData", {})["hmacSignature"] = sig
    ok = is_valid_hmac_notification(body, r["secret"])
    return {}, "Adyen util.generate_notification_sig", ok, json.dumps(body)


def sign_braintree(r):
    """Braintree signs a sample notification (subscription `r["body"]` went past due) into the
    form fields `bt_signature` and `bt_payload`; the secret is the private key."""
    import urllib.parse

    import braintree

    gateway = braintree.BraintreeGateway(
        braintree.Configuration(
            environment=braintree.Environment.Sandbox,
            merchant_id="hookgate_merchant",
            public_key="hookgate_public_key",
            private_key=r["secret"],
        )
    )
    kind = braintree.WebhookNotification.Kind.SubscriptionWentPastDue
    fields = gateway.webhook_testing.sample_notification(kind, r["body"])
    parsed = gateway.webhook_notification.parse(fields["bt_signature"], fields["bt_payload"])
    ok = parsed.kind == kind and parsed.subscription.id == r["body"]
    body = urllib.parse.urlencode(fields)
    return {}, "braintree WebhookTesting.sample_notification", ok, body


def sign_openai(r):
    from openai import InvalidWebhookSignatureError, OpenAI

    key = base64.b64decode(r["secret"].removeprefix("whsec_"))
    signed = f"{r['msg_id']}.{r['timestamp']}.{r['body']}".encode()
    sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": f"v1,{sig}"}
    try:
        OpenAI(api_key="sk-oracle", webhook_secret=r["secret"]).webhooks.verify_signature(r["body"], headers)
        ok = True
    except InvalidWebhookSignatureError:
        ok = False
    return headers, "openai webhooks.verify_signature (oracle)", ok


def sign_lithic(r):
    from lithic import Lithic
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    try:
        Lithic(api_key="oracle", webhook_secret=r["secret"]).webhooks.verify_signature(r["body"], headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "standardwebhooks Webhook.sign; lithic webhooks.verify_signature", ok


def sign_easypost(r):
    import unicodedata

    from easypost import validate_webhook
    from easypost.errors import SignatureVerificationError

    key = unicodedata.normalize("NFKD", r["secret"]).encode()
    headers = {"X-Hmac-Signature": "hmac-sha256-hex=" + hmac.new(key, r["body"].encode(), hashlib.sha256).hexdigest()}
    try:
        validate_webhook(r["body"].encode(), headers, r["secret"])
        ok = True
    except SignatureVerificationError:
        ok = False
    return headers, "easypost validate_webhook (oracle)", ok


def sign_gocardless(r):
    from gocardless_pro import webhooks
    from gocardless_pro.errors import InvalidSignatureError

    sig = hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
    try:
        webhooks.parse(r["body"], r["secret"], sig)
        ok = True
    except InvalidSignatureError:
        ok = False
    return {"Webhook-Signature": sig}, "gocardless_pro webhooks.parse (oracle)", ok


def sign_coinbase_commerce(r):
    from coinbase_commerce.error import SignatureVerificationError
    from coinbase_commerce.webhook import Webhook, WebhookSignature

    sig = WebhookSignature._compute_signature(r["body"], r["secret"])
    try:
        Webhook.construct_event(r["body"], sig, r["secret"])
        ok = True
    except SignatureVerificationError:
        ok = False
    return {"X-CC-Webhook-Signature": sig}, "coinbase-commerce WebhookSignature._compute_signature", ok


def sign_modern_treasury(r):
    from modern_treasury import ModernTreasury

    client = ModernTreasury(api_key="oracle", organization_id="oracle", webhook_key=r["secret"])
    headers = {"X-Signature": client.webhooks.get_signature(r["body"], key=r["secret"])}
    ok = client.webhooks.validate_signature(r["body"], headers, key=r["secret"])
    return headers, "modern-treasury webhooks.get_signature", ok


def sign_telnyx(r):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from telnyx.lib.webhook_verification import WebhookVerificationError, verify_webhook_signature

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(r["private"]))
    ts = str(r["timestamp"])
    sig = base64.b64encode(key.sign(f"{ts}|{r['body']}".encode())).decode()
    headers = {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}
    try:
        verify_webhook_signature(r["body"], headers, r["secret"])
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "telnyx verify_webhook_signature (oracle)", ok


def sign_mailgun(r):
    """Mailgun signs inside the body: `signature {timestamp, token, signature}` beside `event-data`."""
    from mailgun.security import SecurityGuard

    ts = str(r["timestamp"])
    token = r["msg_id"]
    sig = hmac.new(r["secret"].encode(), f"{ts}{token}".encode(), hashlib.sha256).hexdigest()
    ok = SecurityGuard.verify_webhook(r["secret"], token, ts, sig)
    body = {"signature": {"timestamp": ts, "token": token, "signature": sig}, "event-data": json.loads(r["body"])}
    return {}, "mailgun SecurityGuard.verify_webhook (oracle)", ok, json.dumps(body, separators=(",", ":"))


def sign_svix_unbranded(r):
    """Svix under the `webhook-*` header names, which its libraries accept (incident.io)."""
    from svix.webhooks import Webhook

    wh = Webhook(r["secret"])
    sig = wh.sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    wh.verify(r["body"], headers)
    return headers, "svix Webhook.sign (webhook-* headers)", True


def sign_increase(r):
    """Increase keys the HMAC with the secret's text; its SDK hands those bytes to standardwebhooks."""
    from increase import Increase
    from standardwebhooks.webhooks import WebhookVerificationError

    signed = f"{r['msg_id']}.{r['timestamp']}.{r['body']}".encode()
    sig = base64.b64encode(hmac.new(r["secret"].encode(), signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": f"v1,{sig}"}
    try:
        Increase(api_key="oracle", webhook_secret=r["secret"]).events.unwrap(r["body"], headers=headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "increase events.unwrap (oracle)", ok


def sign_finch(r):
    from finch import Finch

    signed = f"{r['msg_id']}.{r['timestamp']}.{r['body']}".encode()
    key = base64.b64decode(r["secret"])
    sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {"finch-event-id": r["msg_id"], "finch-timestamp": str(r["timestamp"]), "finch-signature": f"v1,{sig}"}
    try:
        Finch(access_token="oracle").webhooks.verify_signature(r["body"], headers, secret=r["secret"])
        ok = True
    except ValueError:
        ok = False
    return headers, "finch-api webhooks.verify_signature (oracle)", ok


def sign_stream(r):
    from stream_chat import StreamChat

    sig = hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
    ok = StreamChat(api_key="oracle", api_secret=r["secret"]).verify_webhook(r["body"].encode(), sig)
    return {"X-Signature": sig, "X-Webhook-Id": r["msg_id"]}, "stream-chat verify_webhook (oracle)", ok


def sign_elevenlabs(r):
    from elevenlabs.client import ElevenLabs

    ts = str(r["timestamp"])
    digest = hmac.new(r["secret"].encode(), f"{ts}.{r['body']}".encode(), hashlib.sha256).hexdigest()
    header = f"t={ts},v0={digest}"
    try:
        ElevenLabs(api_key="oracle").webhooks.construct_event(r["body"], header, r["secret"])
        ok = True
    except Exception:  # the SDK raises BadRequestError
        ok = False
    return {"ElevenLabs-Signature": header}, "elevenlabs webhooks.construct_event (oracle)", ok


def sign_retell(r):
    from retell.lib.webhook_auth import symmetric

    header = symmetric["sign"](r["body"], r["secret"], r["timestamp"] * 1000)
    return {"x-retell-signature": header}, "retell-sdk webhook_auth sign", symmetric["verify"](r["body"], r["secret"], header)


def sign_imagekit(r):
    """ImageKit keys the HMAC with the secret's text; its SDK wraps standardwebhooks."""
    from imagekitio import ImageKit
    from standardwebhooks.webhooks import WebhookVerificationError

    signed = f"{r['msg_id']}.{r['timestamp']}.{r['body']}".encode()
    sig = base64.b64encode(hmac.new(r["secret"].encode(), signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": f"v1,{sig}"}
    try:
        ImageKit(private_key="oracle").webhooks.unwrap(r["body"], headers=headers, key=r["secret"])
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "imagekitio webhooks.unwrap (oracle)", ok


def sign_orb(r):
    """Orb sends its timestamp in ISO 8601 without an offset (UTC), as in its SDK's tests."""
    from orb import Orb

    ts = when(r["timestamp"]).replace(tzinfo=None).isoformat(timespec="milliseconds")
    sig = hmac.new(r["secret"].encode(), f"v1:{ts}:{r['body']}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Orb-Timestamp": ts, "X-Orb-Signature": f"v1={sig}"}
    try:
        Orb(api_key="oracle").webhooks.verify_signature(r["body"], headers, secret=r["secret"])
        ok = True
    except ValueError:
        ok = False
    return headers, "orb-billing webhooks.verify_signature (oracle)", ok


def sign_box(r):
    """The configured secret is the secondary key: the primary header is signed with another
    key, so the gateway must find the signature in `box-signature-secondary`."""
    from box_sdk_gen.internal.utils import compute_webhook_signature
    from box_sdk_gen.managers.webhooks import WebhooksManager

    offset = datetime.timezone(datetime.timedelta(hours=-7))
    headers = {
        "box-delivery-id": r["msg_id"],
        "box-delivery-timestamp": when(r["timestamp"]).astimezone(offset).isoformat(),
        "box-signature-algorithm": "HmacSHA256",
        "box-signature-version": "1",
    }
    primary_key = "primary-" + r["msg_id"]
    headers["box-signature-primary"] = compute_webhook_signature(r["body"], headers, primary_key)
    headers["box-signature-secondary"] = compute_webhook_signature(r["body"], headers, r["secret"])
    ok = WebhooksManager.validate_message(r["body"], headers, primary_key, secondary_key=r["secret"])
    return headers, "box-sdk-gen compute_webhook_signature", ok


def sign_cloudinary(r):
    """A keyed plain hash: SHA-1 of body + timestamp + API secret (the account default)."""
    import cloudinary
    from cloudinary.utils import verify_notification_signature

    ts = str(r["timestamp"])
    sig = hashlib.sha1(f"{r['body']}{ts}{r['secret']}".encode()).hexdigest()
    cloudinary.config(api_secret=r["secret"])
    ok = verify_notification_signature(r["body"], ts, sig)
    return {"X-Cld-Timestamp": ts, "X-Cld-Signature": sig}, "cloudinary verify_notification_signature (oracle)", ok


def sign_worldline(r):
    from onlinepayments.sdk.communication.request_header import RequestHeader
    from onlinepayments.sdk.webhooks.in_memory_secret_key_store import InMemorySecretKeyStore
    from onlinepayments.sdk.webhooks.signature_validation_exception import SignatureValidationException
    from onlinepayments.sdk.webhooks.signature_validator import SignatureValidator

    sig = base64.b64encode(hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).digest()).decode()
    headers = {"X-GCS-Signature": sig, "X-GCS-KeyId": r["msg_id"]}
    store = InMemorySecretKeyStore.instance()
    store.store_secret_key(r["msg_id"], r["secret"])
    try:
        SignatureValidator(store).validate(r["body"].encode(), [RequestHeader(k, v) for k, v in headers.items()])
        ok = True
    except SignatureValidationException:
        ok = False
    return headers, "onlinepayments-sdk-python3 SignatureValidator (oracle)", ok


def sign_plivo(r):
    from urllib.parse import parse_qsl

    from plivo.utils.signature_v3 import construct_post_url, get_signature_v3, validate_v3_signature

    params = dict(parse_qsl(r["body"], keep_blank_values=True))
    nonce = r["msg_id"].removeprefix("msg_")
    base_url = construct_post_url(r["url"], dict(params)).decode()
    sig = get_signature_v3(r["secret"].encode(), base_url, nonce.encode()).decode()
    ok = validate_v3_signature("POST", r["url"], nonce, r["secret"], sig, params)
    headers = {"X-Plivo-Signature-V3": sig, "X-Plivo-Signature-V3-Nonce": nonce}
    return headers, "plivo signature_v3.get_signature_v3", ok
def sign_dodo_payments(r):
    """Dodo Payments sends Standard Webhooks; its SDK's `unwrap` checks them with `standardwebhooks`."""
    from dodopayments import DodoPayments
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    try:
        DodoPayments(bearer_token="oracle", webhook_key=r["secret"]).webhooks.unwrap(r["body"], headers=headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "standardwebhooks Webhook.sign; dodopayments webhooks.unwrap", ok


def sign_whop(r):
    """Whop keys the HMAC with the secret's text (`ws_…`), not a decoded `whsec_` value."""
    from standardwebhooks.webhooks import WebhookVerificationError
    from whop_sdk.lib.verify_webhook import unwrap

    signed = f"{r['msg_id']}.{r['timestamp']}.{r['body']}".encode()
    sig = base64.b64encode(hmac.new(r["secret"].encode(), signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": f"v1,{sig}"}
    try:
        unwrap(r["body"], headers=headers, key=r["secret"])
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "whop-sdk verify_webhook.unwrap (oracle)", ok


def sign_sinch(r):
    """Sinch Conversation API: base64 HMAC-SHA256 of `{body}.{nonce}.{timestamp}`."""
    from sinch.domains.conversation.sinch_events.v1.conversation_sinch_event import ConversationSinchEvent

    nonce, ts = r["msg_id"], str(r["timestamp"])
    mac = hmac.new(r["secret"].encode(), f"{r['body']}.{nonce}.{ts}".encode(), hashlib.sha256).digest()
    headers = {
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": ts,
        "x-sinch-webhook-signature": base64.b64encode(mac).decode(),
    }
    ok = ConversationSinchEvent(r["secret"]).validate_authentication_header(headers, r["body"])
    return headers, "sinch ConversationSinchEvent.validate_authentication_header (oracle)", ok


def sign_anthropic(r):
    """Claude webhooks are Standard Webhooks; the anthropic SDK's `beta.webhooks.unwrap` checks them."""
    from anthropic import Anthropic
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    try:
        Anthropic(api_key="oracle", webhook_key=r["secret"]).beta.webhooks.unwrap(r["body"], headers=headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "standardwebhooks Webhook.sign; anthropic beta.webhooks.unwrap", ok


def sign_chunkify(r):
    """Chunkify sends Standard Webhooks; chunkify-sdk's `webhooks.unwrap` checks them."""
    from chunkify import Chunkify
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    try:
        Chunkify(project_access_token="oracle", webhook_key=r["secret"]).webhooks.unwrap(r["body"], headers=headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "standardwebhooks Webhook.sign; chunkify-sdk webhooks.unwrap", ok


def sign_straddle(r):
    """Straddle delivers through Svix (`svix-*` headers): the svix library signs, and the straddle
    SDK's `webhooks.unwrap` (standardwebhooks, which reads the same values under `webhook-*`)
    must accept the signature."""
    from standardwebhooks.webhooks import WebhookVerificationError
    from straddle import StraddleAPI
    from svix.webhooks import Webhook

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    ts = str(r["timestamp"])
    headers = {"svix-id": r["msg_id"], "svix-timestamp": ts, "svix-signature": sig}
    unbranded = {"webhook-id": r["msg_id"], "webhook-timestamp": ts, "webhook-signature": sig}
    try:
        StraddleAPI(bearer="oracle", webhook_secret=r["secret"]).webhooks.unwrap(r["body"], headers=unbranded)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "svix Webhook.sign; straddle webhooks.unwrap", ok


def sign_composio(r):
    """Composio: Standard Webhooks headers, the HMAC keyed with the secret's text."""
    from composio import Composio
    from composio.exceptions import WebhookSignatureVerificationError

    ts = str(r["timestamp"])
    signed = f"{r['msg_id']}.{ts}.{r['body']}".encode()
    sig = "v1," + base64.b64encode(hmac.new(r["secret"].encode(), signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": ts, "webhook-signature": sig}
    try:
        Composio(api_key="oracle").triggers.verify_webhook(
            id=r["msg_id"], payload=r["body"], secret=r["secret"], signature=sig, timestamp=ts
        )
        ok = True
    except WebhookSignatureVerificationError:
        ok = False
    return headers, "composio triggers.verify_webhook (oracle)", ok


def sign_fingerprint(r):
    """Fingerprint: `fpjs-event-signature: v1=<hex HMAC-SHA256 of the body>`."""
    from fingerprint_server_sdk import WebhookValidation

    header = "v1=" + hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
    ok = WebhookValidation.is_valid_webhook_signature(header, r["body"].encode(), r["secret"])
    return {"fpjs-event-signature": header}, "fingerprint-server-sdk WebhookValidation (oracle)", ok


def sign_castle(r):
    """Castle: `X-Castle-Signature`, base64 HMAC-SHA256 of the body with the API secret."""
    import requests
    from castle.configuration import Configuration
    from castle.errors import WebhookVerificationError
    from castle.webhooks.verify import WebhooksVerify

    sig = base64.b64encode(hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).digest()).decode()
    webhook = requests.Request(headers={"X-Castle-Signature": sig})
    webhook.data = r["body"].encode()
    config = Configuration()
    config.api_secret = r["secret"]
    try:
        WebhooksVerify.call(webhook, config)
        ok = True
    except WebhookVerificationError:
        ok = False
    return {"X-Castle-Signature": sig}, "castle WebhooksVerify (oracle)", ok

def sign_signalwire(r):
    """SignalWire JSON callbacks: hex HMAC-SHA1 of the URL it called followed by the body."""
    from signalwire.core.security.webhook_validator import validate_webhook_signature

    sig = hmac.new(r["secret"].encode(), (r["url"] + r["body"]).encode(), hashlib.sha1).hexdigest()
    ok = validate_webhook_signature(r["secret"], sig, r["url"], r["body"])
    return {"X-SignalWire-Signature": sig}, "signalwire-sdk validate_webhook_signature (oracle)", ok


def sign_linq(r):
    """Linq sends Standard Webhooks; linq-python's `webhooks.unwrap` checks them."""
    from linq import LinqAPIV3
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    sig = Webhook(r["secret"]).sign(r["msg_id"], when(r["timestamp"]), r["body"])
    headers = {"webhook-id": r["msg_id"], "webhook-timestamp": str(r["timestamp"]), "webhook-signature": sig}
    try:
        LinqAPIV3(api_key="oracle", webhook_secret=r["secret"]).webhooks.unwrap(r["body"], headers=headers)
        ok = True
    except WebhookVerificationError:
        ok = False
    return headers, "standardwebhooks Webhook.sign; linq-python webhooks.unwrap", ok



def sign_smartcar(r):
    """Smartcar's SDK signs with `hash_challenge` (hex HMAC-SHA256 keyed with the management
    token), the same helper that answers the VERIFY challenge."""
    import smartcar

    sig = smartcar.hash_challenge(r["secret"], r["body"])
    return {"SC-Signature": sig}, "smartcar hash_challenge / verify_payload", smartcar.verify_payload(r["secret"], sig, r["body"])
def sign_paypal(r):
    """PayPal: paypalrestsdk only verifies. The signature is made with `cryptography`; the SDK's
    own `WebhookEvent.verify` then fetches the certificate (from the test's key host, trusted
    through REQUESTS_CA_BUNDLE), checks its chain, name and dates and the signature. The one
    change: the SDK's trust store (two DigiCert files it ships) is pointed at the test CA.
    Runs in its own venv (tests/sdk/requirements-paypal.txt): the SDK needs pyOpenSSL's
    `crypto.verify`, removed in pyOpenSSL 24.3."""
    import zlib

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from paypalrestsdk.notifications import WebhookEvent

    transmission_id, when_sent = r["msg_id"], r["transmission_time"]
    signed = f"{transmission_id}|{when_sent}|{r['secret']}|{zlib.crc32(r['body'].encode())}"
    key = serialization.load_pem_private_key(r["private"].encode(), password=None)
    sig = base64.b64encode(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    WebhookEvent._WebhookEvent__cert_chain_path = [r["ca_file"]]
    ok = WebhookEvent.verify(
        transmission_id, when_sent, r["secret"], r["body"], r["cert_url"], sig, "SHA256withRSA"
    )
    headers = {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": when_sent,
        "PAYPAL-CERT-URL": r["cert_url"],
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-TRANSMISSION-SIG": sig,
    }
    return headers, "paypalrestsdk WebhookEvent.verify (oracle)", ok


SIGNERS = {
    "standard-webhooks": sign_standard_webhooks,
    "gitlab-signing-token": sign_standard_webhooks,
    "svix": sign_svix,
    "clerk": sign_svix,
    "resend": sign_svix,
    "stripe": sign_stripe,
    "slack": sign_slack,
    "paddle": sign_paddle,
    "hubspot": sign_hubspot,
    "square": sign_square,
    "sendgrid": sign_sendgrid,
    "discord": sign_discord,
    "razorpay": sign_razorpay,
    "twilio": sign_twilio,
    "adyen": sign_adyen,
    "braintree": sign_braintree,
    "openai": sign_openai,
    "lithic": sign_lithic,
    "easypost": sign_easypost,
    "gocardless": sign_gocardless,
    "coinbase-commerce": sign_coinbase_commerce,
    "modern-treasury": sign_modern_treasury,
    "telnyx": sign_telnyx,
    "mailgun": sign_mailgun,
    "brex": sign_standard_webhooks,
    "render": sign_standard_webhooks,
    "incident-io": sign_svix_unbranded,
    "stytch": sign_svix,
    "increase": sign_increase,
    "finch": sign_finch,
    "stream": sign_stream,
    "elevenlabs": sign_elevenlabs,
    "retell": sign_retell,
    "imagekit": sign_imagekit,
    "orb": sign_orb,
    "box": sign_box,
    "cloudinary": sign_cloudinary,
    "worldline": sign_worldline,
    "plivo": sign_plivo,
    "dodo-payments": sign_dodo_payments,
    "whop": sign_whop,
    "sinch": sign_sinch,
    "smartcar": sign_smartcar,
    "anthropic": sign_anthropic,
    "chunkify": sign_chunkify,
    "straddle": sign_straddle,
    "composio": sign_composio,
    "fingerprint": sign_fingerprint,
    "castle": sign_castle,
    "signalwire": sign_signalwire,
    "linq": sign_linq,
    "paypal": sign_paypal,
}


# --- JWT providers (op "jwt", for tests/it/jwt.rs) -------------------------------------------
# Each request: {"provider", "claims", "body", "url", plus "private"/"public"/"kid" (RSA PEM)
# or "secret"/"secrets"}. The answer: {"token", "sdk", "sdk_accepts"}. Google's token is signed
# by google-auth itself; the others' SDKs only verify, so PyJWT (the library they use) signs and
# the SDK is asked whether it accepts.


def jwt_google_pubsub(r):
    from google.auth import crypt, jwt as gjwt
    from google.oauth2 import id_token

    signer = crypt.RSASigner.from_string(r["private"], key_id=r["kid"])
    token = gjwt.encode(signer, r["claims"]).decode()
    try:
        # id_token.verify_token without the network: the same decode with a certs dict, then
        # its issuer rule.
        info = gjwt.decode(token, certs={r["kid"]: r["public"]}, audience=r["audience"])
        ok = info.get("iss") in id_token._GOOGLE_ISSUERS and info.get("email") == r["email"]
    except Exception:
        ok = False
    return token, "google-auth jwt.encode / jwt.decode", ok


def pyjwt_hs256(r):
    import jwt

    return jwt.encode(r["claims"], r["secret"], algorithm="HS256")


def jwt_vonage(r):
    from vonage_jwt.verify_jwt import verify_signature

    token = pyjwt_hs256(r)
    ok = verify_signature(token, r["secret"])
    claims = __import__("jwt").decode(token, r["secret"], algorithms=["HS256"])
    # The SDK checks the signature; Vonage's docs add the payload hash, checked here alike.
    ok = ok and claims.get("payload_hash") == hashlib.sha256(r["body"].encode()).hexdigest()
    return token, "vonage-jwt verify_signature", ok


def jwt_qstash(r):
    from qstash import Receiver

    token = pyjwt_hs256(r)
    current, nxt = r["secrets"]
    try:
        Receiver(current_signing_key=current, next_signing_key=nxt).verify(
            signature=token, body=r["body"], url=r.get("url")
        )
        ok = True
    except Exception:
        ok = False
    return token, "qstash Receiver.verify", ok


def jwt_messagebird(r):
    from messagebird.request_validator import RequestValidator

    token = pyjwt_hs256(r)
    try:
        RequestValidator(r["secret"]).validate_signature(token, r["url"], r["body"].encode())
        ok = True
    except Exception:
        ok = False
    return token, "messagebird RequestValidator.validate_signature", ok


JWT_SIGNERS = {
    "google-pubsub": jwt_google_pubsub,
    "vonage": jwt_vonage,
    "upstash-qstash": jwt_qstash,
    "messagebird": jwt_messagebird,
}


def main():
    request = json.load(sys.stdin)
    if request["op"] == "keygen":
        out = keygen()
    elif request["op"] == "sign":
        # Loading the SDKs takes longer than the shortest replay windows allow on a busy
        # machine: a first pass loads them, then every request is signed at the current time.
        # PayPal's signer is not warmed up: it runs in another venv, and its SDK fetches the
        # certificate, which the test counts.
        for r in request["requests"]:
            if r["provider"] not in ("paypal",):
                SIGNERS[r["provider"]](dict(r))
        results = []
        for r in request["requests"]:
            r["timestamp"] = int(time.time())
            headers, sdk, ok, *body = SIGNERS[r["provider"]](r)
            result = {"headers": headers, "sdk": sdk, "sdk_accepts": bool(ok)}
            if body:
                result["body"] = body[0]
            results.append(result)
        out = {"results": results}
    elif request["op"] == "smartcar_challenge":
        import smartcar

        out = {"answer": smartcar.hash_challenge(request["secret"], request["challenge"])}
    elif request["op"] == "jwt":
        results = []
        for r in request["requests"]:
            token, sdk, ok = JWT_SIGNERS[r["provider"]](r)
            results.append({"token": token, "sdk": sdk, "sdk_accepts": bool(ok)})
        out = {"results": results}
    else:
        raise SystemExit(f"unknown op {request['op']!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
