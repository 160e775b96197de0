"""The partner page: audited exports only on a download, its chart and its readable grid."""

from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from clic_geo.access.audit import Action
from clic_geo.access.audit_log import read_audit
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures


def _exports() -> int:
    store = Store.open(load_settings())
    try:
        return len(read_audit(store, "cli", action=Action.EXPORT))
    finally:
        store.close()


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The callables handed to deferred download buttons, by file name."""
    seen: dict = {}
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return seen


@pytest.mark.usefixtures("app_env")
@pytest.mark.parametrize("user", ["demo-housing", "demo-officer"])
def test_export_is_audited_only_when_downloaded(user: str, deferred: dict) -> None:
    page = "app_pages/partner_page.py" if user == "demo-officer" else None
    at = run(page, as_user=user)
    assert not at.exception, [e.value for e in at.exception]
    for _ in range(3):  # reruns, no click
        at.run()
    assert _exports() == 0, "an export was audited with no download"
    (name,) = [n for n in deferred if n and n.endswith("-figures.csv")]
    data = deferred[name]()  # what the browser gets when the button is clicked
    assert data.decode("utf-8-sig").splitlines()[0].startswith("area_id")
    assert _exports() == 1
