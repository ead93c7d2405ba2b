#!/usr/bin/env python3
"""Checks every ```toml block of the given Markdown files with the gateway's own checker
(scripts/check-docs).

Usage: scripts/check-docs-toml.py HOOKGATE_BIN BASE_TOML MARKDOWN_FILE...   (from the repository root)

For each block:
- it must parse as TOML (Python's tomllib);
- it is checked with `HOOKGATE_BIN --config FILE check-config`, run from the repository root (so
  `schemas` is the shipped schemas directory);
- a fragment is completed from BASE_TOML: for each top-level table the block has (say `admin`),
  the keys of the base's table of that name that the block lacks are added, recursively. Tables
  the block does not have are not added, so `[spool]` alone stays a config without `[admin]`;
- `{ env = "NAME" }` references get a dummy value (64 hex digits: an admin key, a store key and
  an HMAC secret all accept it; a `redis_url` gets `redis://127.0.0.1:6379`, or
  `rediss://127.0.0.1:6380` beside `[dedup]` Redis TLS files) unless NAME is set; `{ file = "…" }`
  secrets, `[server.tls]` files and `[dedup]` Redis TLS files that do not exist here are replaced
  by scratch stand-ins (a `.pem` secret by a test RSA public key);
- a block marked ```toml,ignore is skipped (its page must say why).
A block checked as written is passed to check-config as is, so its messages give the block's own
line numbers; a completed one is written out again, and the file's text is printed with the
error. Exits 1 naming each failing block's file and line.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

DUMMY_SECRET = "0123456789abcdef" * 4
# Stand-in for a `{ file = "….pem" }` secret: a provider's RSA public key.
RSA_TEST_KEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "rsa", "spki-2048.pem")
DUMMY_REDIS_URL = "redis://127.0.0.1:6379"
DUMMY_REDISS_URL = "rediss://127.0.0.1:6380"


def blocks(path):
    """(first line of the block's content, info string, text) of every fenced block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.groups()
        body = []
        j = i + 1
        while j < len(lines):
            close = re.match(r"^\s*(`{3,}|~{3,})\s*$", lines[j])
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                break
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        yield i + 2, info, "\n".join(body) + "\n"
        i = j + 1


def complete(block, base):
    """The block with the base's keys it lacks, only under top-level tables it has."""
    def fill(into, source):
        for key, value in source.items():
            if key not in into:
                into[key] = value
            elif isinstance(into[key], dict) and isinstance(value, dict):
                fill(into[key], value)

    added = False
    for table, value in base.items():
        if table in block and isinstance(block[table], dict) and isinstance(value, dict):
            before = json.dumps(block[table], sort_keys=True, default=str)
            fill(block[table], value)
            added |= json.dumps(block[table], sort_keys=True, default=str) != before
    return added


def stand_ins(config, scratch, env, notes):
    """Dummy env values; scratch files for file references that do not exist here."""
    changed = False

    def walk(value, key=None):
        nonlocal changed
        if isinstance(value, dict):
            if set(value) == {"env"} and isinstance(value["env"], str):
                if not os.environ.get(value["env"]):
                    # A URL where one is expected; check-config does not connect to it.
                    env[value["env"]] = DUMMY_REDIS_URL if key == "redis_url" else DUMMY_SECRET
            elif set(value) == {"file"} and isinstance(value["file"], str):
                if not os.path.exists(value["file"]):
                    stand_in = os.path.join(scratch, f"secret-{len(notes)}")
                    with open(stand_in, "w") as f:
                        # A `.pem` file is a provider's public key (RSA presets): a test key.
                        if value["file"].endswith(".pem"):
                            f.write(open(RSA_TEST_KEY).read())
                        else:
                            f.write(DUMMY_SECRET + "\n")
                    notes.append(f"secret file {value['file']} -> a scratch file")
                    value["file"] = stand_in
                    changed = True
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(config)
    tls = config.get("server", {}).get("tls")
    if isinstance(tls, dict) and not all(os.path.exists(str(tls.get(k, ""))) for k in ("cert_file", "key_file")):
        cert, key = scratch_pair(scratch)
        notes.append(f"TLS pair {tls.get('cert_file')}, {tls.get('key_file')} -> a scratch self-signed pair")
        tls["cert_file"], tls["key_file"] = cert, key
        changed = True
    dedup = config.get("dedup")
    redis_files = ("redis_ca_file", "redis_client_cert_file", "redis_client_key_file")
    if isinstance(dedup, dict) and any(k in dedup for k in redis_files):
        # TLS files go with rediss:// URLs.
        url = dedup.get("redis_url")
        if isinstance(url, dict) and set(url) == {"env"} and not os.environ.get(str(url["env"])):
            env[url["env"]] = DUMMY_REDISS_URL
        if not all(os.path.exists(str(dedup[k])) for k in redis_files if k in dedup):
            cert, key = scratch_pair(scratch)
            notes.append("[dedup] Redis TLS files -> a scratch self-signed pair")
            for k, path in zip(redis_files, (cert, cert, key)):
                if k in dedup:
                    dedup[k] = path
            changed = True
    return changed


def scratch_pair(scratch):
    """A self-signed certificate and its key in scratch (made once): (cert, key) paths."""
    cert, key = os.path.join(scratch, "tls.crt"), os.path.join(scratch, "tls.key")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "2"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def toml_key(key):
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return value.isoformat()  # dates and times


def to_toml(config, path=()):
    """Top-level tables, and deeper ones holding tables, get a [header]; the rest (secret
    references, `auth`, `[server.tls]`, …) are written inline."""
    def inline(value):
        return path and not any(isinstance(v, dict) for v in value.values())

    out = []
    plain = [(k, v) for k, v in config.items() if not isinstance(v, dict) or inline(v)]
    tables = [(k, v) for k, v in config.items() if isinstance(v, dict) and not inline(v)]
    if path and (plain or not tables):
        out.append("[" + ".".join(toml_key(p) for p in path) + "]")
    out += [f"{toml_key(k)} = {toml_value(v)}" for k, v in plain]
    for k, v in tables:
        out += to_toml(v, path + (k,))
    return out


def on_page(message, page, first):
    """Adds the page's line to the first "line N" of a message about a block checked as written."""
    m = re.search(r"\bline (\d+)", message)
    if not m:
        return message
    return message + f"\n(line {m.group(1)} of the block is {page}:{first + int(m.group(1)) - 1})"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, base_path, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(base_path, "rb") as f:
        base = tomllib.load(f)
    failures, checked, completed, ignored = [], 0, 0, []
    with tempfile.TemporaryDirectory(prefix="check-docs-") as scratch:
        for page in pages:
            for line, info, text in blocks(page):
                lang, *attrs = info.split(",")
                if lang != "toml":
                    continue
                where = f"{page}:{line}"
                if "ignore" in attrs:
                    ignored.append(where)
                    continue
                checked += 1
                try:
                    config = tomllib.loads(text)
                except tomllib.TOMLDecodeError as e:
                    failures.append((where, f"not valid TOML: {on_page(str(e), page, line)}", None))
                    continue
                env, notes = {}, []
                added = complete(config, base)
                replaced = stand_ins(config, scratch, env, notes)
                file = os.path.join(scratch, f"block-{checked}.toml")
                with open(file, "w", encoding="utf-8") as f:
                    if added or replaced:
                        completed += added
                        f.write("\n".join(to_toml(config)) + "\n")
                    else:
                        f.write(text)
                run = subprocess.run([binary, "--config", file, "check-config"],
                                     env={**os.environ, **env}, capture_output=True, text=True)
                if run.returncode != 0:
                    message = (run.stderr + run.stdout).strip().replace(file, "<block>")
                    if not (added or replaced):
                        message = on_page(message, page, line)
                    if added or replaced:
                        message += "\n(checked as completed from " + base_path + \
                            (", " + "; ".join(notes) if notes else "") + ":)\n" + open(file).read()
                    failures.append((where, "check-config failed", message))
    print(f"check-docs-toml: {checked} toml block(s) checked with check-config "
          f"({completed} completed from {base_path}), {len(ignored)} marked ignore"
          + (f": {', '.join(ignored)}" if ignored else ""))
    if failures:
        print(f"check-docs-toml: {len(failures)} block(s) failed:", file=sys.stderr)
        for where, what, message in failures:
            print(f"{where}: ```toml block: {what}", file=sys.stderr)
            if message:
                print("    " + message.replace("\n", "\n    "), file=sys.stderr)
        sys.exit(1)
    print("check-docs-toml: ok")


if __name__ == "__main__":
    main()
