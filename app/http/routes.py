"""Registering one view under both path styles of the reference (§1.1): v2 `/api/<api>` and
v3 `/api/{serviceId}/<api>`."""

from quart import Blueprint


def both_styles(blueprint: Blueprint, rule: str, view, methods: list[str]) -> None:
    name = view.__name__
    blueprint.add_url_rule(f"/api{rule}", f"{name}_v2", view, methods=methods)
    blueprint.add_url_rule(f"/api/<int:service_id>{rule}", f"{name}_v3", view, methods=methods)
