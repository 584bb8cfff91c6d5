#!/usr/bin/env python3
"""Mechanical checks of the data files under deploy/ and the schemas under schemas/.

Usage: python3 tools/check-data.py [REPO_ROOT]

Checks: YAML parses; each file validates against its JSON Schema (draft 2020-12,
formats date and date-time checked); the schemas keep to the subset the Swift
validator implements; catalogue cross-references (document ids, unique codes,
interconnected steps); delegations (coverage of every procedure and step,
no re-delegation, supersede chains, conflicts, and the escalation paths at
2026-11-27); calendars (weekdays, statutory days, lunar dates, make-up days);
rules (counts, outcomes, unreachable rules, forward wiring, fact types against
the vocabulary in deploy/README-data.md); topics. Exits 1 on any error.
"""
import datetime as dt
import json
import math
import os
import re
import sys

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

# Formats checked here whatever jsonschema's optional format packages (Debian's python3-jsonschema has none of
# them, so without these its FormatChecker passes any string as a date-time).
FORMATS = FormatChecker()
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value):
    if not isinstance(value, str):
        return True
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise ValueError(f"not an RFC 3339 full-date: {value!r}")
    dt.date.fromisoformat(value)
    return True


ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
# The departments are the catalogue's (deploy/catalog/departments.yaml), the delegator `city` aside: no list here.
DEPTS = []
KINDS = ["citizen", "household", "enterprise", "organisation"]
CHANNELS = ["online", "counter", "post"]
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
# Procedures deliberately left without any delegation (the City keeps them).
NO_DELEGATION = {("1.003646", "culture")}
# Escalation paths that must have data at NOW: reason -> procedure codes.
EXPECTED_STATUS = {
    "expired": {"1.009873"},
    "revoked": {"1.001090"},
    "not-yet-valid": {"2.002175"},
    "no-delegation": {"1.003646"},
}
SUBSET = {"type", "required", "properties", "additionalProperties", "enum", "const", "pattern", "format",
          "items", "minItems", "minimum", "maximum", "oneOf", "anyOf", "$ref", "$defs", "description",
          "title", "$schema"}

errors = []
warnings = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def warn(where, msg):
    warnings.append(f"{where}: {msg}")


def rel(p):
    return os.path.relpath(p, ROOT)


# ---------------------------------------------------------------- YAML loading
class Loader(yaml.SafeLoader):
    """Safe loader that keeps dates and instants as strings (as the JSON Schemas expect)."""


Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YAML11_BOOL = re.compile(r"(:|-)\s+(yes|no|on|off|y|n|Yes|No|On|Off|YES|NO|ON|OFF)\s*(#.*)?$")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        err(rel(path), f"cannot read: {e}")
        return None
    for i, line in enumerate(text.splitlines(), 1):
        if YAML11_BOOL.search(line):
            err(f"{rel(path)}:{i}", "unquoted YAML 1.1 boolean-like scalar (quote it)")
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as e:
        err(rel(path), f"YAML does not parse: {e}")
        return None


# ---------------------------------------------------------------- schemas
schemas = {}


def check_subset(node, where, in_props=False):
    if isinstance(node, dict):
        for k, v in node.items():
            if in_props:
                check_subset(v, f"{where}/{k}")
                continue
            if k not in SUBSET:
                err(where, f"keyword '{k}' is outside the validator's subset")
            if k == "format" and v not in ("date", "date-time"):
                err(where, f"format '{v}' is outside the subset")
            if k == "$ref" and not str(v).startswith("#/$defs/"):
                err(where, f"$ref '{v}' does not point into #/$defs")
            if k in ("properties", "$defs"):
                check_subset(v, f"{where}/{k}", in_props=True)
            elif k in ("items", "additionalProperties") and isinstance(v, dict):
                check_subset(v, f"{where}/{k}")
            elif k in ("oneOf", "anyOf"):
                for i, s in enumerate(v):
                    check_subset(s, f"{where}/{k}/{i}")
    elif isinstance(node, bool):
        pass


for name in ["intake", "event", "rules", "delegations", "calendar", "catalog-procedures",
             "catalog-departments", "catalog-documents", "catalog-communes", "topics", "workflows"]:
    p = os.path.join(ROOT, "schemas", f"{name}.schema.json")
    try:
        with open(p, encoding="utf-8") as f:
            s = json.load(f)
        Draft202012Validator.check_schema(s)
        check_subset(s, rel(p))
        schemas[name] = Draft202012Validator(s, format_checker=FORMATS)
    except Exception as e:  # noqa: BLE001
        err(rel(p), f"bad schema: {e}")


def validate(name, doc, path):
    v = schemas.get(name)
    if v is None or doc is None:
        return False
    ok = True
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        loc = "/".join(str(x) for x in e.absolute_path)
        msg = e.message
        if e.context:  # oneOf/anyOf: say which branch came closest and why it failed
            b = best_match(e.context)
            msg = f"no variant matches; closest: at '{'/'.join(str(x) for x in b.absolute_path)}': {b.message}"
        err(rel(path), f"schema {name}: at '{loc}': {msg[:300]}")
        ok = False
    return ok


# ---------------------------------------------------------------- facts vocabulary
FACT_TYPES = {}
readme = os.path.join(ROOT, "deploy", "README-data.md")
try:
    with open(readme, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\|\s*`([a-zA-Z][A-Za-z0-9]*)`\s*\|\s*(integer|number|string|boolean)\s*\|", line)
            if m:
                FACT_TYPES[m.group(1)] = m.group(2)
except OSError:
    err(rel(readme), "missing (it holds the facts vocabulary)")
if not FACT_TYPES:
    err(rel(readme), "no facts vocabulary table found")
facts_used = set()

# ---------------------------------------------------------------- catalogue
dpath = os.path.join(ROOT, "deploy", "catalog", "departments.yaml")
ddoc = load(dpath)
validate("catalog-departments", ddoc, dpath)
dept_ids = [d.get("id") for d in (ddoc or {}).get("departments", [])]
if "city" not in dept_ids:
    err(rel(dpath), "the delegator `city` must be listed among the departments")
DEPTS.extend(d for d in dept_ids if isinstance(d, str) and d != "city")
codes = [d.get("agencyCode") for d in (ddoc or {}).get("departments", [])]
if len(set(codes)) != len(codes):
    err(rel(dpath), "agencyCode values are not unique")

cpath = os.path.join(ROOT, "deploy", "catalog", "communes.yaml")
cdoc = load(cpath)
validate("catalog-communes", cdoc, cpath)
COMMUNES = set()
for i, c in enumerate((cdoc or {}).get("communes", []) or []):
    code = c.get("code") if isinstance(c, dict) else None
    if code in COMMUNES:
        err(rel(cpath), f"duplicate commune code {code}")
    COMMUNES.add(code)
if cdoc and cdoc.get("synthetic") is True and not (cdoc.get("source") or {}).get("why"):
    err(rel(cpath), "synthetic codes must say why in source.why")
if cdoc and cdoc.get("synthetic") is not True and not (cdoc.get("source") or {}).get("url"):
    err(rel(cpath), "real codes must cite their source (source.url)")

docpath = os.path.join(ROOT, "deploy", "catalog", "documents.yaml")
docdoc = load(docpath)
validate("catalog-documents", docdoc, docpath)
doc_ids = [d.get("id") for d in (docdoc or {}).get("documents", [])]
for d in {x for x in doc_ids if doc_ids.count(x) > 1}:
    err(rel(docpath), f"duplicate document id {d}")
doc_ids = set(doc_ids)
docs_used = set()

procs = {}  # code -> (owner, procedure dict)
for dept in DEPTS:
    p = os.path.join(ROOT, "deploy", "catalog", "procedures", f"{dept}.yaml")
    doc = load(p)
    if not validate("catalog-procedures", doc, p):
        continue
    if doc["department"] != dept:
        err(rel(p), f"department '{doc['department']}' does not match the file name")
    if len(doc["procedures"]) < 8:
        err(rel(p), f"only {len(doc['procedures'])} procedures (at least 8 required)")
    for pr in doc["procedures"]:
        c = pr["code"]
        if c in procs:
            err(rel(p), f"procedure code {c} already used by {procs[c][0]}")
        procs[c] = (dept, pr)
        for d in pr["documents"]:
            docs_used.add(d)
            if d not in doc_ids:
                err(rel(p), f"{c}: unknown document type '{d}'")
        if len(set(pr["documents"])) != len(pr["documents"]):
            err(rel(p), f"{c}: duplicate document in list")
        fee = pr.get("fee")
        if fee is not None:
            kinds = fee.get("exemptApplicantKinds", [])
            if fee["amountVND"] > 0 and len(set(kinds)) == 4:
                warn(rel(p), f"{c}: every applicant kind is exempt from the fee of {fee['amountVND']} đồng")
            if fee["amountVND"] % 1000 != 0:
                warn(rel(p), f"{c}: fee {fee['amountVND']} đồng is not a whole number of thousands")
            if not fee.get("amountVerified", False):
                warn(rel(p), f"{c}: fee amount not verified against its legal text ({fee.get('legalBasis', 'no legal basis')})")
        steps = pr.get("steps")
        if steps:
            if steps[-1]["department"] != dept:
                err(rel(p), f"{c}: last step must be the owning department {dept}")
            units = {s["timeLimit"]["unit"] for s in steps}
            if units != {pr["timeLimit"]["unit"]}:
                err(rel(p), f"{c}: step units {units} differ from the procedure's unit")
            total = sum(s["timeLimit"]["value"] for s in steps)
            if total > pr["timeLimit"]["value"]:
                err(rel(p), f"{c}: steps sum to {total} > time limit {pr['timeLimit']['value']}")
            for a, b in zip(steps, steps[1:]):
                if a["department"] == b["department"]:
                    err(rel(p), f"{c}: consecutive steps of the same department")
crossing = [c for c, (o, pr) in procs.items() if pr.get("steps") and len({s["department"] for s in pr["steps"]}) > 1]
if len(crossing) < 3:
    err("deploy/catalog/procedures", f"only {len(crossing)} interconnected procedures crossing departments (>= 3 required)")
for d in sorted(doc_ids - docs_used):
    warn(rel(docpath), f"document type '{d}' is not required by any procedure")

# departments that handle each procedure: owner + every step department
handlers = {}
for c, (owner, pr) in procs.items():
    hs = [s["department"] for s in pr.get("steps", [])] or [owner]
    handlers[c] = hs
handled_by = {d: {c for c, hs in handlers.items() if d in hs} for d in DEPTS}


# ---------------------------------------------------------------- conditions
def check_condition(cond, where, allow_docs=True):
    if "always" in cond:
        return
    for key in ("all", "any"):
        if key in cond:
            for c in cond[key]:
                check_condition(c, where, allow_docs)
            return
    if "not" in cond:
        check_condition(cond["not"], where, allow_docs)
        return
    field = cond["field"]
    op, val = [(k, v) for k, v in cond.items() if k != "field"][0]
    vals = val if op in ("in", "notIn") else [val]

    def typed(expected):
        for v in vals:
            ok = {"integer": isinstance(v, int) and not isinstance(v, bool),
                  "number": isinstance(v, (int, float)) and not isinstance(v, bool),
                  "string": isinstance(v, str),
                  "boolean": isinstance(v, bool)}[expected]
            if not ok:
                err(where, f"{field} {op} {v!r}: literal is not of type {expected}")

    if op == "exists":
        if field.startswith("facts."):
            facts_used.add(field[6:])
            if field[6:] not in FACT_TYPES:
                err(where, f"unknown fact '{field[6:]}' (not in README-data.md vocabulary)")
        return
    if field.startswith("facts."):
        name = field[6:]
        facts_used.add(name)
        t = FACT_TYPES.get(name)
        if t is None:
            err(where, f"unknown fact '{name}' (not in README-data.md vocabulary)")
            return
        if op in ("lt", "lte", "gt", "gte") and t == "boolean":
            err(where, f"{field}: ordering comparison on a boolean fact")
        typed(t)
    elif field == "documents":
        if not allow_docs:
            err(where, "documents not allowed here")
        if op not in ("in", "notIn"):
            err(where, f"documents only supports in/notIn/exists, not {op}")
        for v in vals:
            docs_used.add(v)
            if v not in doc_ids:
                err(where, f"unknown document type '{v}'")
    elif field == "channel":
        typed("string")
        for v in vals:
            if v not in CHANNELS:
                err(where, f"channel value '{v}' not in {CHANNELS}")
    elif field == "applicant.kind":
        typed("string")
        for v in vals:
            if v not in KINDS:
                err(where, f"applicant.kind value '{v}' not in {KINDS}")
    elif field == "procedure":
        typed("string")
        for v in vals:
            if v not in procs:
                err(where, f"unknown procedure '{v}'")
    elif field == "commune":
        typed("string")
        for v in vals:
            if not re.fullmatch(r"[0-9]{5}", str(v)):
                err(where, f"commune '{v}' is not a 5-digit code")
            elif v not in COMMUNES:
                err(where, f"commune '{v}' is not in deploy/catalog/communes.yaml")


def canon(x):
    return json.dumps(x, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------- delegations
def d_(s):
    return dt.date.fromisoformat(s)


def instant(s):
    return dt.datetime.fromisoformat(s)


deleg_dir = os.path.join(ROOT, "deploy", "delegations")
records = {}
for fn in sorted(os.listdir(deleg_dir)) if os.path.isdir(deleg_dir) else []:
    if not fn.endswith(".yaml"):
        continue
    p = os.path.join(deleg_dir, fn)
    doc = load(p)
    if not validate("delegations", doc, p):
        continue
    for r in doc["delegations"]:
        where = f"{rel(p)}: {r['id']}"
        if r["id"] in records:
            err(where, "duplicate delegation id")
        records[r["id"]] = r
        r["_file"] = rel(p)
        if fn != f"{r['delegatee']}.yaml":
            warn(where, f"delegatee {r['delegatee']} kept in {fn}")
        for t in r["scope"].get("territory", []):
            if t != "*" and t not in COMMUNES:
                err(where, f"territory {t} is not in deploy/catalog/communes.yaml")
        for c in r["scope"]["procedures"]:
            if c not in procs:
                err(where, f"unknown procedure {c}")
            elif r["delegatee"] not in handlers[c]:
                err(where, f"{c} is not handled by {r['delegatee']} (owner or step)")
        if "conditions" in r:
            check_condition(r["conditions"], where, allow_docs=True)
        # Who signs must be said, not assumed: the delegate's position (its holder, or an authorised deputy, signs).
        if "delegate" not in r:
            err(where, "no delegate: name the position whose holder exercises it (delegate: { position: director })")
        vf = d_(r["validFrom"])
        if d_(r["instrument"]["date"]) > vf:
            err(where, "instrument signed after validFrom")
        if "validTo" in r and d_(r["validTo"]) < vf:
            err(where, "validTo before validFrom")
        if "revokedAt" in r:
            if d_(r["revokingInstrument"]["date"]) > instant(r["revokedAt"]).date():
                err(where, "revoking instrument dated after revokedAt")
            if instant(r["revokedAt"]).date() < vf:
                warn(where, "revoked before it became valid")

delegators = {r["delegator"] for r in records.values()}
for r in records.values():
    if r["delegatee"] in delegators:
        err(r["id"], "re-delegation: the delegatee is a delegator elsewhere")
superseded = {}
for r in records.values():
    s = r.get("supersedes")
    if s:
        if s not in records:
            err(r["id"], f"supersedes unknown record {s}")
        elif records[s]["delegatee"] != r["delegatee"]:
            err(r["id"], f"supersedes {s} of another delegatee")
        else:
            superseded[s] = r["id"]
for r in records.values():  # cycles
    seen, cur = set(), r["id"]
    while cur in records and records[cur].get("supersedes"):
        if cur in seen:
            err(r["id"], "supersede cycle")
            break
        seen.add(cur)
        cur = records[cur]["supersedes"]
chains = [rid for rid in records if rid in superseded and records[rid].get("supersedes")]
if not chains:
    err("deploy/delegations", "no superseded chain (a record that supersedes and is itself superseded)")

TZ = dt.timezone(dt.timedelta(hours=7))


def interval(r):
    start = dt.datetime.combine(d_(r["validFrom"]), dt.time(0), TZ)
    end = dt.datetime.combine(d_(r["validTo"]) + dt.timedelta(days=1), dt.time(0), TZ) if "validTo" in r else dt.datetime.max.replace(tzinfo=TZ)
    if "revokedAt" in r:
        end = min(end, instant(r["revokedAt"]))
    return start, end


def overlap(a, b):
    ta, tb = a["scope"]["territory"], b["scope"]["territory"]
    if not ("*" in ta or "*" in tb or set(ta) & set(tb)):
        return False
    sa, sb = set(a["scope"].get("subjects", KINDS)), set(b["scope"].get("subjects", KINDS))
    return bool(sa & sb)


ids = sorted(records)
for i, a in enumerate(ids):
    for b in ids[i + 1:]:
        ra, rb = records[a], records[b]
        if ra["delegatee"] != rb["delegatee"]:
            continue
        common = set(ra["scope"]["procedures"]) & set(rb["scope"]["procedures"])
        if not common or not overlap(ra, rb):
            continue
        (s1, e1), (s2, e2) = interval(ra), interval(rb)
        if s1 < e2 and s2 < e1 and ra.get("supersedes") != b and rb.get("supersedes") != a:
            err(f"{a} / {b}", f"conflicting delegations for {sorted(common)} valid at the same time")

status = {}
for c, hs in handlers.items():
    for d in hs:
        recs = [r for r in records.values() if r["delegatee"] == d and c in r["scope"]["procedures"]]
        if not recs:
            if (c, d) not in NO_DELEGATION:
                err("deploy/delegations", f"procedure {c} ({d}) has no delegation record")
            status[(c, d)] = "no-delegation"
            continue
        if (c, d) in NO_DELEGATION:
            err("deploy/delegations", f"{c} ({d}) is meant to have no delegation but has {[r['id'] for r in recs]}")
        st = None
        for r in recs:
            s, e = interval(r)
            if s <= NOW < e:
                st = "valid"
                break
        if st is None:
            if any("revokedAt" in r and instant(r["revokedAt"]) <= NOW for r in recs):
                st = "revoked"
            elif any("validTo" in r and interval(r)[1] <= NOW for r in recs):
                st = "expired"
            else:
                st = "not-yet-valid"
        status[(c, d)] = st
for reason, want in EXPECTED_STATUS.items():
    got = {c for (c, d), s in status.items() if s == reason}
    if got != want:
        err("deploy/delegations", f"at {NOW.isoformat()} procedures escalating with '{reason}' are {sorted(got)}, expected {sorted(want)}")
for r in records.values():
    if r["id"] in superseded:
        continue
    if "validTo" in r and interval(r)[1] <= NOW and "revokedAt" not in r:
        pass  # an expired, unsuperseded record: expected for uq-ld-2021-01

# ---------------------------------------------------------------- calendars
PI = math.pi


def jd_from_date(dd, mm, yy):
    a = (14 - mm) // 12
    y = yy + 4800 - a
    m = mm + 12 * a - 3
    return dd + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045


def new_moon(k):
    T = k / 1236.85
    T2, T3, dr = T * T, T * T * T, PI / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * T2 - 0.000000155 * T3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * T - 0.009173 * T2) * dr)
    M = 359.2242 + 29.10535608 * k - 0.0000333 * T2 - 0.00000347 * T3
    Mpr = 306.0253 + 385.81691806 * k + 0.0107306 * T2 + 0.00001236 * T3
    F = 21.2964 + 390.67050646 * k - 0.0016528 * T2 - 0.00000239 * T3
    C1 = (0.1734 - 0.000393 * T) * math.sin(M * dr) + 0.0021 * math.sin(2 * dr * M)
    C1 -= 0.4068 * math.sin(Mpr * dr) - 0.0161 * math.sin(dr * 2 * Mpr)
    C1 -= 0.0004 * math.sin(dr * 3 * Mpr)
    C1 += 0.0104 * math.sin(dr * 2 * F) - 0.0051 * math.sin(dr * (M + Mpr))
    C1 -= 0.0074 * math.sin(dr * (M - Mpr)) + 0.0004 * math.sin(dr * (2 * F + M))
    C1 -= 0.0004 * math.sin(dr * (2 * F - M)) - 0.0006 * math.sin(dr * (2 * F + Mpr))
    C1 += 0.0010 * math.sin(dr * (2 * F - Mpr)) + 0.0005 * math.sin(dr * (2 * Mpr + M))
    deltat = -0.000278 + 0.000265 * T + 0.000262 * T2
    return jd1 + C1 - deltat


def sun_longitude(jdn):
    T = (jdn - 2451545.0) / 36525
    T2, dr = T * T, PI / 180
    M = 357.52910 + 35999.05030 * T - 0.0001559 * T2 - 0.00000048 * T * T2
    L0 = 280.46645 + 36000.76983 * T + 0.0003032 * T2
    DL = (1.914600 - 0.004817 * T - 0.000014 * T2) * math.sin(dr * M)
    DL += (0.019993 - 0.000101 * T) * math.sin(dr * 2 * M) + 0.000290 * math.sin(dr * 3 * M)
    L = (L0 + DL) * dr
    L = L - PI * 2 * int(L / (PI * 2))
    return L + 2 * PI if L < 0 else L


TZH = 7


def sun_sector(day):
    return int(sun_longitude(day - 0.5 - TZH / 24) / PI * 6)


def new_moon_day(k):
    return int(new_moon(k) + 0.5 + TZH / 24)


def month11(yy):
    k = int((jd_from_date(31, 12, yy) - 2415021) / 29.530588853)
    nm = new_moon_day(k)
    return new_moon_day(k - 1) if sun_sector(nm) >= 9 else nm


def leap_offset(a11):
    k = int((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i, arc = 1, sun_sector(new_moon_day(k + 1))
    while True:
        last = arc
        i += 1
        arc = sun_sector(new_moon_day(k + i))
        if not (arc != last and i < 14):
            return i - 1


def to_lunar(d):
    """(day, month, leap) of the Vietnamese lunar calendar (UTC+7), Hồ Ngọc Đức's algorithm."""
    day_number = d.toordinal() + 1721425
    k = int((day_number - 2415021.076998695) / 29.530588853)
    start = new_moon_day(k + 1)
    if start > day_number:
        start = new_moon_day(k)
    a11 = month11(d.year)
    b11 = a11
    if a11 >= start:
        a11 = month11(d.year - 1)
    else:
        b11 = month11(d.year + 1)
    lday = day_number - start + 1
    diff = int((start - a11) / 29)
    leap, lmonth = 0, diff + 11
    if b11 - a11 > 365:
        lo = leap_offset(a11)
        if diff >= lo:
            lmonth = diff + 10
            leap = int(diff == lo)
    if lmonth > 12:
        lmonth -= 12
    return lday, lmonth, leap


def days(frm, to):
    d = frm
    while d <= to:
        yield d
        d += dt.timedelta(days=1)


for year in (2025, 2026, 2027):
    p = os.path.join(ROOT, "deploy", "calendar", f"vn-{year}.yaml")
    doc = load(p)
    if not validate("calendar", doc, p):
        continue
    where = rel(p)
    if doc["year"] != year:
        err(where, f"year {doc['year']} does not match the file name")
    off = {}  # date -> (name, kind)
    for h in doc["holidays"]:
        a = d_(h.get("date") or h["from"])
        b = d_(h.get("date") or h["to"])
        if b < a:
            err(where, f"{h['name']}: range ends before it starts")
        for x in days(a, b):
            if x.year != year:
                err(where, f"{x} is outside {year}")
            if x in off:
                err(where, f"{x} listed twice")
            off[x] = (h["name"], h.get("kind", "holiday"))
            if h.get("kind") == "compensatory" and x.weekday() >= 5:
                err(where, f"compensatory day {x} is a {x.strftime('%A')}")
    swapped_off = set()
    for s in doc["workingSaturdays"]:
        sd, rd = d_(s["date"]), d_(s["replaces"])
        if sd.weekday() != 5:
            err(where, f"working Saturday {sd} is a {sd.strftime('%A')}")
        if rd.weekday() >= 5:
            err(where, f"swapped day {rd} is a {rd.strftime('%A')}, not a weekday")
        if sd.year != year:
            err(where, f"working Saturday {sd} outside {year}")
        if sd in off or rd in off:
            err(where, f"swap {sd}/{rd} collides with a listed holiday")
        swapped_off.add(rd)

    def is_off(x):
        if x in off or x in swapped_off:
            return True
        if any(d_(s["date"]) == x for s in doc["workingSaturdays"]):
            return False
        return x.weekday() >= 5

    def need(x, what):
        if x not in off or off[x][1] != "holiday":
            err(where, f"{what} {x} ({x.strftime('%a')}) is not listed as a holiday")

    need(dt.date(year, 1, 1), "Tết Dương lịch")
    need(dt.date(year, 4, 30), "Ngày Chiến thắng")
    need(dt.date(year, 5, 1), "Quốc tế Lao động")
    nd = dt.date(year, 9, 2)
    need(nd, "Quốc khánh")
    adj = [x for x in (nd - dt.timedelta(days=1), nd + dt.timedelta(days=1)) if x in off and off[x][1] == "holiday"]
    if len(adj) != 1:
        err(where, "Quốc khánh needs exactly one adjacent holiday day (1/9 or 3/9)")
    hung = [x for x in days(dt.date(year, 3, 1), dt.date(year, 5, 31)) if to_lunar(x) == (10, 3, 0)]
    if len(hung) != 1:
        err(where, "cannot place Giỗ Tổ Hùng Vương")
    else:
        need(hung[0], "Giỗ Tổ Hùng Vương (10/3 âm lịch)")
    tet = [x for x in days(dt.date(year, 1, 15), dt.date(year, 2, 25)) if to_lunar(x)[:2] == (1, 1)]
    tet_days = [x for x, (n, k) in off.items() if "Tết Nguyên đán" in n]
    if len(tet) != 1:
        err(where, "cannot place Tết")
    else:
        if not is_off(tet[0]):
            err(where, f"mùng 1 Tết {tet[0]} is a working day")
        if tet_days and not (min(tet_days) <= tet[0] + dt.timedelta(days=3) and max(tet_days) >= tet[0] - dt.timedelta(days=3)):
            err(where, f"Tết entries {min(tet_days)}..{max(tet_days)} are not around mùng 1 {tet[0]}")
    weekday_tet = [x for x in tet_days if x.weekday() < 5]
    if len(weekday_tet) != 5:
        err(where, f"Tết gives {len(weekday_tet)} weekdays off, expected 5 (5 Tết days, weekend ones made up)")
    # Labour Code art. 111(3): a fixed holiday on a weekend is made up on the next working day.
    fixed = [dt.date(year, 1, 1), dt.date(year, 4, 30), dt.date(year, 5, 1), nd] + adj + hung
    pending = sorted(x for x in fixed if x.weekday() >= 5)
    comp = sorted(x for x, (n, k) in off.items() if k == "compensatory" and "Tết" not in n)
    used = set()
    for x in pending:
        y = x + dt.timedelta(days=1)
        while y.weekday() >= 5 or (y in off and off[y][1] == "holiday") or y in used or y in swapped_off:
            y += dt.timedelta(days=1)
        used.add(y)
        if y not in comp:
            err(where, f"{x} ({x.strftime('%A')}) falls on a weekend: expected a compensatory day on {y}")
        else:
            comp.remove(y)
    for c in comp:
        err(where, f"compensatory day {c} does not make up any weekend holiday")
    # An entry with verified: false applies only with the operator's `confirmed` (deploy/README-data.md, Calendars);
    # the checks above still hold for it, but the count below leaves it out, as MotCua does.
    unapplied = set()
    for h in doc["holidays"]:
        if h.get("verified") is False and "confirmed" not in h:
            unapplied.update(days(d_(h.get("date") or h["from"]), d_(h.get("date") or h["to"])))
    for s in doc["workingSaturdays"]:
        if s.get("verified") is False and "confirmed" not in s:
            warn(where, f"swap {s['date']}/{s['replaces']} is unverified and not confirmed: MotCua does not make it")
    n_off = sum(1 for x in days(dt.date(year, 1, 1), dt.date(year, 12, 31))
                if x.weekday() < 5 and is_off(x) and x not in unapplied)
    print(f"calendar {year}: {n_off} weekdays off, {len(doc['workingSaturdays'])} working Saturdays, "
          f"Tết mùng 1 {tet[0] if tet else '?'}, Hùng Kings {hung[0] if hung else '?'}"
          + (" (provisional)" if doc["source"].get("provisional") else "")
          + (f"; unverified and not confirmed, so working days: {', '.join(str(x) for x in sorted(unapplied))}"
             if unapplied else ""))

# ---------------------------------------------------------------- rules
outcomes = set()
for dept in DEPTS:
    p = os.path.join(ROOT, "deploy", "rules", f"{dept}.yaml")
    doc = load(p)
    if not validate("rules", doc, p):
        continue
    where = rel(p)
    if doc["department"] != dept:
        err(where, "department does not match the file name")
    rules = doc["rules"]
    n = len(rules)
    if not 10 <= n <= 20:
        err(where, f"{n} rules (10–20 required)")
    if dept == "industrial-zones" and n != 20:
        err(where, f"{n} rules (the benchmark table must have exactly 20)")
    rids = [r["id"] for r in rules]
    for d in {x for x in rids if rids.count(x) > 1}:
        err(where, f"duplicate rule id {d}")
    last = rules[-1]
    if not (last["when"] == {"always": True} and "procedures" not in last and last["outcome"] == "approve"
            and last["review"] == "official"):
        err(where, "the last rule must be the catch-all { always: true } approve/official without procedures")
    H = handled_by[dept]
    for j, r in enumerate(rules):
        w = f"{where}: {r['id']}"
        outcomes.add((r["outcome"], r["review"]) if r["outcome"] == "approve" else (r["outcome"],))
        check_condition(r["when"], w)
        ps = set(r.get("procedures") or H)
        for c in r.get("procedures", []):
            if c not in H:
                err(w, f"procedure {c} is not handled by {dept}")
        for i in range(j):
            q = rules[i]
            qs = set(q.get("procedures") or H)
            if qs >= ps and (q["when"] == {"always": True} or canon(q["when"]) == canon(r["when"])):
                err(w, f"unreachable: rule {q['id']} always matches first")
        if r["outcome"] == "forward":
            for c in r["procedures"]:
                hs = handlers.get(c, [])
                if dept not in hs[:-1]:
                    err(w, f"forward of {c}: {dept} is not a non-final step")
                elif hs[hs.index(dept) + 1] != r["forwardTo"]:
                    err(w, f"forward of {c} goes to {r['forwardTo']}, next step is {hs[hs.index(dept) + 1]}")
    # each non-final step must forward unconditionally, and never approve the procedure
    for c in sorted(H):
        hs = handlers[c]
        if dept in hs[:-1]:
            fw = [r for r in rules if r["outcome"] == "forward" and c in r.get("procedures", [])]
            if not fw or fw[0]["when"] != {"always": True}:
                err(where, f"{c}: step department {dept} needs an unconditional forward rule")
            else:
                k = rules.index(fw[0])
                for r in rules[:k]:
                    if r["outcome"] == "approve" and (not r.get("procedures") or c in r["procedures"]):
                        err(where, f"{c}: rule {r['id']} approves before the forward")
for want in [("approve", "auto"), ("approve", "official"), ("refuse",), ("supplement",), ("escalate",), ("forward",)]:
    if want not in outcomes:
        err("deploy/rules", f"no rule with outcome {want}")
for f in sorted(set(FACT_TYPES) - facts_used):
    warn(rel(readme), f"fact '{f}' is documented but no rule or delegation reads it")

# ---------------------------------------------------------------- workflows
# deploy/workflows/<department>.yaml: divisions and internal stages (specialist -> head of division -> director).
RANK = {"specialist": 1, "head-of-division": 2, "director": 3}
wf_dir = os.path.join(ROOT, "deploy", "workflows")
wf_departments = set()
for name in sorted(os.listdir(wf_dir)) if os.path.isdir(wf_dir) else []:
    p = os.path.join(wf_dir, name)
    wdoc = load(p)
    if not validate("workflows", wdoc, p):
        continue
    dept = wdoc["department"]
    if name != f"{dept}.yaml":
        err(rel(p), f"department {dept} belongs in workflows/{dept}.yaml")
    if dept not in DEPTS:
        err(rel(p), f"unknown department {dept}")
    wf_departments.add(dept)
    divisions = [d["id"] for d in wdoc["divisions"]]
    if len(divisions) != len(set(divisions)):
        err(rel(p), "duplicate division ids")

    def route(r, what, inherited=None):
        if r["division"] not in divisions:
            err(rel(p), f"{what}: unknown division {r['division']}")
        stages = r.get("stages", inherited)
        if stages is None:
            err(rel(p), f"{what}: needs stages")
            return
        total = sum(s["share"] for s in stages)
        if abs(total - 1) > 0.001:
            err(rel(p), f"{what}: shares add up to {total}, not 1")
        ranks = [RANK[s["role"]] for s in stages]
        if ranks != sorted(ranks):
            err(rel(p), f"{what}: stages must move up the ranks")
        if stages[-1]["role"] != "director" or stages[-1].get("skippableWhenAutomatic"):
            err(rel(p), f"{what}: the last stage is the director's and cannot be skipped")
        if len({s["id"] for s in stages}) != len(stages):
            err(rel(p), f"{what}: duplicate stage ids")

    route(wdoc["default"], "default")
    seen_codes = set()
    for r in wdoc.get("procedures", []):
        c = r["code"]
        if c in seen_codes:
            err(rel(p), f"procedure {c} overridden twice")
        seen_codes.add(c)
        if c not in procs:
            err(rel(p), f"unknown procedure {c}")
            continue
        owner, pr = procs[c]
        taking = {s["department"] for s in pr.get("steps") or []} or {owner}
        if dept not in taking:
            err(rel(p), f"procedure {c} has no step of {dept}")
        route(r, f"procedure {c}", wdoc["default"]["stages"])
for d in DEPTS:
    if d != "city" and d not in wf_departments:
        warn(f"deploy/workflows/{d}.yaml", "missing: no workflow (divisions and stages)")

# ---------------------------------------------------------------- topics
tp = os.path.join(ROOT, "deploy", "topics.yaml")
tdoc = load(tp)
if validate("topics", tdoc, tp):
    want = {"dossiers.intake": 12, "dossiers.intake.dlq": 3, "dossier.events": 12, "escalations": 6,
            "portal.sync": 12, "portal.sync.ack": 12, "portal.sync.ack.dlq": 3, "notifications": 12}
    for d in DEPTS:
        want[f"dossiers.{d}"] = 12
        want[f"dossiers.{d}.dlq"] = 3
    got = {t["name"]: t["partitions"] for t in tdoc["topics"]}
    if len(got) != len(tdoc["topics"]):
        err(rel(tp), "duplicate topic names")
    if got != want:
        err(rel(tp), f"topics differ from the expected set: {sorted(set(got.items()) ^ set(want.items()))}")

# ---------------------------------------------------------------- message schemas
example = {
    "id": "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b", "procedure": "2.000633",
    "submittedAt": "2026-11-27T09:30:00+07:00", "channel": "online", "commune": "00004",
    "applicant": {"kind": "enterprise", "id": "0101234567", "name": "Công ty TNHH A"},
    "documents": ["application-form", "business-registration"],
    "facts": {"capitalVnd": 5000000000, "areaM2": 120},
}
if "intake" in schemas:
    validate("intake", example, "schemas/intake.schema.json (DESIGN.md example)")
    bad = [dict(example, channel="fax"), {k: v for k, v in example.items() if k != "applicant"},
           dict(example, submittedAt="yesterday"), dict(example, facts={"x": [1]}), dict(example, extra=1)]
    for b in bad:
        if schemas["intake"].is_valid(b):
            err("schemas/intake.schema.json", f"accepts an invalid message: {canon(b)[:120]}")
if "event" in schemas:
    ev = {"eventId": "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b:decided:1", "dossierId": example["id"],
          "type": "decided", "department": "industry-trade", "at": "2026-11-27T10:00:00+07:00",
          "data": {"outcome": "approve", "rule": "it-default"}}
    validate("event", ev, "schemas/event.schema.json (sample event)")

# ---------------------------------------------------------------- report
per_dept = {d: sum(1 for c, (o, _) in procs.items() if o == d) for d in DEPTS}
print(f"procedures: {per_dept} (total {len(procs)}; interconnected: {', '.join(sorted(crossing))})")
print(f"delegations: {len(records)}; escalation paths at {NOW.date()}: "
      + ", ".join(f"{k}={sorted(c for (c, d), s in status.items() if s == k)}" for k in EXPECTED_STATUS))
print(f"facts vocabulary: {len(FACT_TYPES)} facts, {len(facts_used)} read by rules/delegations")
for w in warnings:
    print(f"warning: {w}")
for e in errors:
    print(f"error: {e}")
print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
sys.exit(1 if errors else 0)
