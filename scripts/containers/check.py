"""The API side of the containers test, run inside the test's tools container on a topology's
network (scripts/containers/run calls `docker compose exec tools python3 /checks/check.py CMD`):

  setup            first login (or login, when the state was kept), webhooks to this container,
                   registration through wanet's control API, wait for `connected`
  kept             the admin's changed password and the registration survived: `connected` again
                   with no login reset and no registration
  traffic TAG      a consumer writes (inbound webhook), the business answers (201, then the
                   `delivered` status webhook, and the phone has it)
  failover SECONDS requests through the load balancer for SECONDS while the caller stops a webapp;
                   fails when any request fails or takes more than 2 s

Every wait polls with a generous deadline and prints what it last saw when it gives up."""

import base64
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

API = os.environ.get("API", "https://waweb:443")
WANET = os.environ.get("WANET", "http://wanet:5280")
WEBHOOK_URL = "http://tools:8000/"
HOOKS = "/tmp/hooks.jsonl"
NEW_PASSWORD = "Str0ng!Pass"
CC, NUMBER = "1", "6315550000"
BUSINESS = CC + NUMBER
CONSUMER = "16315550100"
WAIT = 180
# The acceptance bound on any request while a webapp stops (issue 15).
FAILOVER_BOUND = 2.0
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


class Failed(Exception):
    pass


def call(method, url, auth=None, body=None, timeout=30):
    """One request on a new connection; (status, parsed JSON or text). Network errors raise."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=TLS) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def wait(what, probe, timeout=WAIT):
    """Polls probe() (None or False: not yet; exceptions count as not yet) until it returns a
    value; raises Failed with the last observation after timeout seconds."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as error:  # the service may be restarting: keep polling
            last = repr(error)
        time.sleep(0.5)
    raise Failed(f"timed out after {timeout} s waiting for {what}; last seen: {last}")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def login(first_allowed):
    """A bearer token for admin: with the changed password, or (first start) the default one."""
    def attempt():
        status, body = call("POST", API + "/v1/users/login", basic("admin", NEW_PASSWORD), {})
        if status == 200:
            return "Bearer " + body["users"][0]["token"]
        if status == 401 and first_allowed:
            status, body = call("POST", API + "/v1/users/login", basic("admin", "secret"),
                                {"new_password": NEW_PASSWORD})
            if status == 200:
                return "Bearer " + body["users"][0]["token"]
        return None
    return wait("an admin login", attempt)


# How many coreapps must be connected: 1, or the shard count of a Multiconnect topology.
SHARDS = int(os.environ.get("SHARDS", "1"))


def connected_count(token):
    """(connected coreapps, what /v1/health said). A single coreapp answers gateway_status; a
    cluster nests each node's answer under its key with its role (masters never connect)."""
    status, body = call("GET", API + "/v1/health", token)
    if status != 200:
        return 0, f"{status} {body}"
    health = body.get("health", {})
    if "gateway_status" in health:
        return int(health["gateway_status"] == "connected"), health["gateway_status"]
    coreapps = [n for n in health.values() if isinstance(n, dict) and n.get("role") == "coreapp"]
    return sum(n.get("gateway_status") == "connected" for n in coreapps), json.dumps(health)


def wait_connected(token):
    seen = []

    def probe():
        count, state = connected_count(token)
        seen.append(state)
        return count == SHARDS
    try:
        wait(f"{SHARDS} connected coreapp(s)", probe)
    except Failed as error:
        raise Failed(f"{error}; states seen: {sorted(set(seen))[-5:]}") from None


def cert():
    status, body = call("POST", WANET + "/control/certs", body={"vname": "Acme Corp"})
    if status != 201:
        raise Failed(f"wanet /control/certs: {status} {body}")
    return body["cert"]


def register(token):
    """Registration as an operator does it: the code comes from wanet's control API (the
    simulated SMS). A stack that just became healthy may still be electing its primary, so the
    first call is retried until it is answered 201 (already registered) or 202 (code sent)."""
    def request_code():
        status, body = call("POST", API + "/v1/account", token,
                            {"cc": CC, "phone_number": NUMBER, "method": "sms", "cert": cert()})
        return status if status in (201, 202) else print(f"POST /v1/account: {status} {body}")
    if wait("POST /v1/account answered 201 or 202", request_code) == 201:
        return  # already registered
    status, code = call("GET", f"{WANET}/control/codes/{BUSINESS}")
    if status != 200:
        raise Failed(f"wanet /control/codes: {status} {code}")
    dashed = code["code"][:3] + "-" + code["code"][3:]
    status, body = call("POST", API + "/v1/account/verify", token, {"code": dashed})
    if status != 201:
        raise Failed(f"POST /v1/account/verify: {status} {body}")


def set_webhooks(token):
    settings = {"webhooks": {"url": WEBHOOK_URL, "message": {"sent": True, "delivered": True}},
                "callback_backoff_delay_ms": 500, "max_callback_backoff_delay_ms": 2000}
    status, body = call("PATCH", API + "/v1/settings/application", token, settings)
    if status != 200:
        raise Failed(f"PATCH /v1/settings/application: {status} {body}")


def hooks():
    with open(HOOKS, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def cmd_setup():
    token = login(first_allowed=True)
    set_webhooks(token)
    register(token)
    if SHARDS > 1:
        # Multiconnect: the shard count is set once registered (on the primary master).
        status, body = call("POST", API + "/v1/account/shards", token,
                            {"cc": CC, "phone_number": NUMBER, "shards": SHARDS, "cert": cert()})
        if status != 201:
            raise Failed(f"POST /v1/account/shards: {status} {body}")
    wait_connected(token)
    print("setup: logged in, webhooks set, registered, connected")


def cmd_kept():
    token = login(first_allowed=False)
    wait_connected(token)
    print("kept: admin password and registration kept, connected")


def cmd_traffic(tag):
    token = login(first_allowed=False)
    wait_connected(token)
    text = f"hello from the consumer ({tag}, {time.time():.0f})"
    status, reply = call("POST", f"{WANET}/control/consumers/{CONSUMER}/messages",
                         body={"type": "text", "text": {"body": text}})
    if status != 201:
        raise Failed(f"wanet consumer message: {status} {reply}")
    inbound = reply["id"]
    wait(f"the inbound webhook of {inbound}",
         lambda: any(m.get("id") == inbound for h in hooks() for m in h.get("messages", [])))

    def send():
        status, body = call("POST", API + "/v1/messages", token,
                            {"to": CONSUMER, "type": "text", "text": {"body": f"answer ({tag})"}})
        return body["messages"][0]["id"] if status == 201 else None
    sent = wait("POST /v1/messages answered 201", send)
    wait(f"the delivered webhook of {sent}",
         lambda: any(s.get("id") == sent and s.get("status") == "delivered"
                     for h in hooks() for s in h.get("statuses", [])))

    def on_phone():
        status, consumer = call("GET", f"{WANET}/control/consumers/{CONSUMER}")
        return status == 200 and any(m.get("id") == sent for m in consumer.get("received", []))
    wait(f"{sent} on the consumer's phone", on_phone)
    print(f"traffic ({tag}): inbound {inbound} webhook received, sent {sent} delivered")


def cmd_failover(seconds):
    """Three clients in a loop, each request on a new connection through the load balancer, paced
    to stay under the API's rate limit. Every request must end within FAILOVER_BOUND; an HTTP
    answer other than 200 fails. A connection cut while the stopping webapp closes it is an
    error the client sees at once (it does not wait): counted and shown, not failed."""
    token = login(first_allowed=False)
    results, lock, stop = [], threading.Lock(), time.monotonic() + float(seconds)

    def client():
        while time.monotonic() < stop:
            start = time.monotonic()
            try:
                status, _ = call("GET", API + "/v1/health", token, timeout=10)
            except Exception as error:
                status = repr(error)
            with lock:
                results.append((time.monotonic() - start, status))
            time.sleep(0.3)
    threads = [threading.Thread(target=client) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slowest = max(results)
    cut = [r for r in results if isinstance(r[1], str)]
    bad = [r for r in results if isinstance(r[1], int) and r[1] != 200]
    slow = [r for r in results if r[0] > FAILOVER_BOUND]
    print(f"failover: {len(results)} requests, slowest {slowest[0]:.2f} s (bound "
          f"{FAILOVER_BOUND} s), {len(slow)} over it, {len(bad)} not 200, {len(cut)} cut: {cut[:3]}")
    if bad or slow:
        raise Failed(f"requests slow or refused: {(slow + bad)[:10]}")


if __name__ == "__main__":
    commands = {"setup": cmd_setup, "kept": cmd_kept, "traffic": cmd_traffic,
                "failover": cmd_failover}
    try:
        commands[sys.argv[1]](*sys.argv[2:])
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
