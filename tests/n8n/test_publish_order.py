"""n8n refuses to publish a workflow before the sub-workflows it calls: the import publishes callees first."""
import pytest

from scripts.n8nkit.sync import publish_order, read_files
from scripts.n8nkit.paths import WORKFLOWS_DIR


def workflow(wid: str, *calls: str) -> dict:
    nodes = [{"type": "n8n-nodes-base.executeWorkflow", "parameters": {"workflowId": {"__rl": True, "value": c}}}
             for c in calls]
    return {"id": wid, "nodes": nodes}


def test_callees_come_before_callers_whatever_the_file_order():
    order = [w["id"] for w in publish_order([workflow("a", "b"), workflow("b", "c"), workflow("c"), workflow("d")])]
    assert order == ["c", "b", "a", "d"]


def test_a_cycle_is_refused_by_name():
    with pytest.raises(ValueError, match="a -> b -> a"):
        publish_order([workflow("a", "b"), workflow("b", "a")])


def test_the_kits_order_release_is_published_before_order_confirmed():
    ids = [w["id"] for w in publish_order(read_files(WORKFLOWS_DIR))]
    assert ids.index("odooOpsOrderRels") < ids.index("odooOpsOrderConf")
