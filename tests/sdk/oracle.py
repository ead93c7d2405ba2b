"""Signatures made by the providers' own official SDKs, for tests/it/sdk.rs.

Reads one JSON object from stdin and prints one JSON object:

  {"op": "keygen"}
      -> key pairs for the public-key providers (made with `cryptography`):
         {"sendgrid": {"public": b64 DER SPKI, "private": PEM}, "discord": {"public": hex, "private": hex}}

  {"op": "sign", "requests": [{"provider", "secret", "body", "timestamp", "msg_id", "url", "private"?}, ...]}
      -> {"results": [{"headers": {...}, "sdk": "<package and function used>", "sdk_accepts": bool}, ...]}

For providers whose SDK can sign (Standard Webhooks, Svix, Stripe, Slack, Paddle, HubSpot,
Twilio, Adyen, Braintree, Coinbase Commerce, Modern Treasury, Retell, and Lithic through its
`standardwebhooks` dependency; Brex and Render with `standardwebhooks`, incident.io and Stytch
with `svix`, the reference libraries of the scheme they send) the headers (for Adyen and
Braintree: the body, which carries the signatures) come from that SDK. For verify-only SDKs
(Square, SendGrid, Discord, Razorpay, OpenAI, EasyPost, GoCardless, Telnyx, Mailgun, Increase,
Finch, Stream, ElevenLabs, ImageKit) the signature is made with a general crypto library and the
official verifier is asked whether it accepts it (`sdk_accepts`); the gateway must then accept
the same request. PayPal's (paypalrestsdk) runs from its own venv, see `sign_paypal`.
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys


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
    "paypal": sign_paypal,
}


def main():
    request = json.load(sys.stdin)
    if request["op"] == "keygen":
        out = keygen()
    elif request["op"] == "sign":
        results = []
        for r in request["requests"]:
            headers, sdk, ok, *body = SIGNERS[r["provider"]](r)
            result = {"headers": headers, "sdk": sdk, "sdk_accepts": bool(ok)}
            if body:
                result["body"] = body[0]
            results.append(result)
        out = {"results": results}
    else:
        raise SystemExit(f"unknown op {request['op']!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
