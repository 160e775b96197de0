"""Who sees what: users, sign-in and sessions, the audit log, ISA scopes, partner aggregates.

Services over the store. May import: foundation, geo and store.
"""
