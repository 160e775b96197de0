"""``clic-geo users``, ``clic-geo isa`` and ``clic-geo audit``: accounts, scopes, the log.

Passwords are never taken from the command line (it shows in ``ps`` and in shell
history): they are asked for twice on the terminal, or read from the first line of
standard input with ``--password-stdin``. The command line acts as ``cli`` in the
audit log: whoever runs it can already read the store's files.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date

from clic_geo._errors import ConfigError
from clic_geo.access import accounts
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy
from clic_geo.access.identity import Role
from clic_geo.access.isa import (
    LAYER_LABELS,
    Layer,
    delete_isa_scope,
    get_isa_scope,
    list_isa_scopes,
)
from clic_geo.access.isa import set_isa_scope as _set_scope
from clic_geo.cli._common import open_store, print_json
from clic_geo.demo.accounts import DEMO_ACCOUNTS, ensure_demo_accounts, remove_demo_accounts
from clic_geo.geo.areas import load_areas

_ROLES = [str(r) for r in Role]


def register(sub: argparse._SubParsersAction) -> None:
    _register_users(sub)
    _register_isa(sub)
    a = sub.add_parser("audit", help="show the audit log (who saw or did what, and when)")
    a.add_argument("--limit", type=int, default=50)
    a.add_argument("--action", help="only this action (e.g. login, view_records, export)")
    a.add_argument("--actor", help="only this username")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_audit)


def _register_users(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="accounts: add, list, passwords, roles, disable, unlock")
    u = p.add_subparsers(dest="users_command", metavar="ACTION")
    u.required = True

    o = u.add_parser("add-org", help="add or rename an organisation")
    o.add_argument("org_id", help="a slug such as housing-south")
    o.add_argument("--name", required=True)
    o.add_argument("--kind", required=True, help="police, charity, housing, nhs, probation...")
    o.set_defaults(func=_add_org)
    ls = u.add_parser("orgs", help="list organisations")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_orgs)

    a = u.add_parser("add", help="add a user (asks for the password)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=_ROLES)
    a.add_argument("--org", required=True, help="organisation id")
    a.add_argument("--name", help="display name")
    a.add_argument("--email", help="for single sign-on: matched once, if the provider verified it")
    a.add_argument("--oidc-subject", help="for single sign-on: '<issuer>|<sub>'")
    how = a.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--sso-only", action="store_true", help="no password: single sign-on only")
    a.set_defaults(func=_add)

    ls = u.add_parser("list", help="list users (never passwords)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    sp = u.add_parser("set-password", help="set a user's password (ends their sessions)")
    sp.add_argument("username")
    sp.add_argument("--password-stdin", action="store_true")
    sp.set_defaults(func=_set_password)

    sr = u.add_parser("set-role", help="change a user's role (ends their sessions)")
    sr.add_argument("username")
    sr.add_argument("role", choices=_ROLES)
    sr.add_argument("--org", help="also move them to this organisation")
    sr.set_defaults(func=_set_role)

    for name, helptext in (
        ("disable", "disable a user and end their sessions"),
        ("enable", "enable a disabled user"),
        ("unlock", "lift a lockout after failed sign-ins"),
        ("revoke", "end every session of a user"),
    ):
        c = u.add_parser(name, help=helptext)
        c.add_argument("username")
        c.set_defaults(func=_simple, action=name)

    d = u.add_parser("demo", help="create the demo accounts (demo mode only), or --remove them")
    d.add_argument("--remove", action="store_true")
    d.set_defaults(func=_demo)


def _register_isa(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("isa", help="information-sharing agreement scopes of partner organisations")
    i = p.add_subparsers(dest="isa_command", metavar="ACTION")
    i.required = True
    ly = i.add_parser("layers", help="list the layers a scope can name")
    ly.set_defaults(func=_layers)
    s = i.add_parser("set", help="create or replace an organisation's scope")
    s.add_argument("org_id")
    s.add_argument("--areas", required=True, help="comma-separated area ids")
    s.add_argument("--layers", required=True, help="comma-separated layers (see 'isa layers')")
    s.add_argument("--reference", required=True, help="the agreement's document reference")
    s.add_argument("--from", dest="data_from", type=date.fromisoformat, help="YYYY-MM-DD")
    s.add_argument("--to", dest="data_to", type=date.fromisoformat, help="YYYY-MM-DD")
    s.set_defaults(func=_isa_set)
    sh = i.add_parser("show", help="show an organisation's scope")
    sh.add_argument("org_id")
    sh.set_defaults(func=_isa_show)
    ls = i.add_parser("list", help="list every scope")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_isa_list)
    rm = i.add_parser("remove", help="remove a scope (its partners then see nothing)")
    rm.add_argument("org_id")
    rm.set_defaults(func=_isa_remove)


# ------------------------------------------------------------------ passwords


def _read_password(args: argparse.Namespace) -> str:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        pw = line.rstrip("\r\n")
        if not pw:
            raise ConfigError("no password on standard input")
        return pw
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ConfigError("the two passwords differ")
    return first


# ------------------------------------------------------------------ users


def _add_org(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        accounts.create_organisation(store, args.org_id, args.name, args.kind, actor="cli")
    finally:
        store.close()
    print(f"organisation {args.org_id} saved")
    return 0


def _orgs(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        df = accounts.list_organisations(store)
    finally:
        store.close()
    for r in df.itertuples():
        print(f"{r.id:<20} {r.kind:<10} {r.name}{'  (demo)' if r.demo else ''}")
    if args.json:
        print_json(df.to_dict("records"))
    return 0


def _add(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        policy = AuthPolicy.from_settings(settings)
        password = None if args.sso_only else _read_password(args)
        user = accounts.create_user(
            store,
            args.username,
            role=args.role,
            organisation=args.org,
            display_name=args.name,
            password=password,
            email=args.email,
            oidc_subject=args.oidc_subject,
            actor="cli",
            policy=policy,
        )
    finally:
        store.close()
    print(f"added {user.username} ({user.role}, {user.organisation_id})")
    return 0


def _list(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        df = accounts.list_users(store)
    finally:
        store.close()
    for r in df.itertuples():
        state = []
        if r.disabled:
            state.append("disabled")
        if r.locked_until is not None and str(r.locked_until) not in ("NaT", "None"):
            state.append(f"locked until {r.locked_until}")
        if r.demo:
            state.append("demo")
        sign_in = "password" if r.has_password else "single sign-on"
        print(
            f"{r.username:<24} {r.role:<8} {r.organisation_id:<18} {sign_in:<15} {', '.join(state)}"
        )
    if args.json:
        print_json(json.loads(df.to_json(orient="records", date_format="iso")))
    return 0


def _set_password(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        accounts.set_password(
            store,
            args.username,
            _read_password(args),
            actor="cli",
            policy=AuthPolicy.from_settings(settings),
        )
    finally:
        store.close()
    print(f"password set for {args.username}; their sessions have ended")
    return 0


def _set_role(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        accounts.set_role(store, args.username, args.role, organisation=args.org, actor="cli")
    finally:
        store.close()
    print(f"{args.username} is now {args.role}; their sessions have ended")
    return 0


def _simple(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        if args.action == "disable":
            accounts.set_disabled(store, args.username, True, actor="cli")
            msg = "disabled; their sessions have ended"
        elif args.action == "enable":
            accounts.set_disabled(store, args.username, False, actor="cli")
            msg = "enabled"
        elif args.action == "unlock":
            accounts.unlock(store, args.username, actor="cli")
            msg = "unlocked"
        else:
            n = accounts.revoke_sessions(store, args.username, actor="cli")
            msg = f"{n} session(s) ended"
    finally:
        store.close()
    print(f"{args.username}: {msg}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        if args.remove:
            n = remove_demo_accounts(store)
            print(f"removed {n} demo account(s)")
            return 0
        ensure_demo_accounts(settings, store)
    finally:
        store.close()
    for acc in DEMO_ACCOUNTS:
        print(f"{acc.username:<14} {acc.password:<20} {acc.role}")
    return 0


# ------------------------------------------------------------------ ISA scopes


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _layers(args: argparse.Namespace) -> int:
    for x in Layer:
        print(f"{x:<22} {LAYER_LABELS[x]}")
    return 0


def _isa_set(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        scope = _set_scope(
            store,
            args.org_id,
            areas=_csv(args.areas),
            layers=_csv(args.layers),
            reference=args.reference,
            data_from=args.data_from,
            data_to=args.data_to,
            actor="cli",
            known_areas=load_areas(settings.areas_dir).ids,
        )
    finally:
        store.close()
    print(json.dumps(scope.to_dict(), indent=2))
    return 0


def _isa_show(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        scope = get_isa_scope(store, args.org_id)
    finally:
        store.close()
    if scope is None:
        print(f"{args.org_id} has no ISA scope: its partners see nothing")
        return 1
    print(json.dumps(scope.to_dict(), indent=2))
    return 0


def _isa_list(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        scopes = list_isa_scopes(store)
    finally:
        store.close()
    for sc in scopes:
        print(
            f"{sc.organisation_id:<20} areas {','.join(sc.areas):<24} "
            f"{len(sc.layers)} layers  {sc.data_from or '-'}..{sc.data_to or '-'}  {sc.reference}"
        )
    if args.json:
        print_json([sc.to_dict() for sc in scopes])
    return 0


def _isa_remove(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        delete_isa_scope(store, args.org_id, actor="cli")
    finally:
        store.close()
    print(f"scope of {args.org_id} removed")
    return 0


# ------------------------------------------------------------------ audit


def _audit(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        df = read_audit(store, "cli", action=args.action, actor=args.actor, limit=args.limit)
    finally:
        store.close()
    for r in df.itertuples():
        where = f" {r.area_id}" if r.area_id else ""
        what = f" {r.subject}" if r.subject else ""
        detail = json.dumps(r.detail, sort_keys=True) if r.detail else ""
        print(
            f"{r.at:%Y-%m-%d %H:%M:%S} {r.actor or '-':<16} {r.action:<16} {r.outcome:<7}"
            f"{where}{what} {detail}"
        )
    if args.json:
        print_json(json.loads(df.to_json(orient="records", date_format="iso")))
    return 0
