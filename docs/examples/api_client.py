"""Push responses from another channel, then pull the cycle's responses and results."""

import os
import sys

import requests

BASE = os.environ.get("EVALSURVEY_API", "http://127.0.0.1:5000/api/v1")
session = requests.Session()
session.headers.update(
    {"Authorization": f"Bearer {os.environ['EVALSURVEY_TOKEN']}", "Accept-Language": "en"}
)

# 1. push: the mini-program's responses of the morning, in one all-or-nothing batch
batch = [
    {
        "response_id": f"MP-20261123-{n:04d}",  # the channel's own id: safe to send again
        "questionnaire": "RESIDENT@1",
        "unit": "C0103",
        "rater_group": "citizen",
        "channel": "import",
        "device": f"wx-{n % 3}",
        "submitted_at": f"2026-11-23T10:{n:02d}:00+08:00",
        "r_serve": 4,
        "r_listen": 5,
        "r_members": 4,
        "r_env": 3,
    }
    for n in range(10, 20)
]
r = session.post(f"{BASE}/cycles/2026H2/responses", json={"responses": batch}, timeout=60)
if r.status_code not in (200, 201):
    problem = r.json()  # application/problem+json
    print(problem["title"], "-", problem["detail"])
    for e in problem.get("errors", []):
        print(f"  response {e['index']}, {e['field']}: {e['detail']}")
    sys.exit(1)
print(r.status_code, r.json()["stored"], "stored,", r.json()["existing"], "sent before")

# 2. pull: every response of C0103 this token may read, page by page
rows, cursor = [], None
while True:
    params = {"unit": "C0103", "limit": 200, **({"cursor": cursor} if cursor else {})}
    page = session.get(f"{BASE}/cycles/2026H2/responses", params=params, timeout=60).json()
    rows += page["responses"]
    cursor = page["next_cursor"]
    if not cursor:
        break
print(
    len(rows),
    "responses of C0103, by channel:",
    {c: sum(r["channel"] == c for r in rows) for c in sorted({r["channel"] for r in rows})},
)

# 3. pull: the communities' result as every page shows it
result = session.get(
    f"{BASE}/cycles/2026H2/results", params={"unit_type": "community"}, timeout=60
).json()
print("published:", result["published"])
for u in sorted(result["units"], key=lambda u: u["standing"]["rank"])[:3]:
    s = u["standing"]
    print(f"  {s['rank']:>2} {u['unit']} {s['score']:.2f} {s['label']}  ({s['reason']})")

# 4. a mistake is named by index and field, and nothing is stored
bad = dict(batch[0], response_id="MP-20261123-0099", r_serve=7, unit="C9999")
r = session.post(f"{BASE}/cycles/2026H2/responses", json=bad, timeout=60)
print(r.status_code, r.headers["Content-Type"])
for e in r.json()["errors"]:
    print(f"  response {e['index']}, {e['field']}: {e['detail']}")
