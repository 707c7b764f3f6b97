"""Categories, subcategories, customers and branches."""
from flask import jsonify

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.services import reference


@bp.get("/issue-categories")
def list_categories():
    return jsonify([s.category(c) for c in reference.list_categories()])


@bp.post("/issue-categories")
def create_category():
    return jsonify(s.category(reference.create_category(api_user(), json_body()))), 201


@bp.get("/issue-categories/<category_id>/subcategories")
def list_subcategories(category_id):
    return jsonify([s.subcategory(x) for x in reference.list_subcategories(category_id)])


@bp.post("/issue-categories/<category_id>/subcategories")
def create_subcategory(category_id):
    return jsonify(s.subcategory(reference.create_subcategory(api_user(), category_id, json_body()))), 201


@bp.patch("/issue-subcategories/<subcategory_id>")
def update_subcategory(subcategory_id):
    return jsonify(s.subcategory(reference.update_subcategory(api_user(), subcategory_id, json_body())))


@bp.get("/customers")
def list_customers():
    return jsonify([s.customer(c) for c in reference.list_customers_for(api_user())])


@bp.post("/customers")
def create_customer():
    return jsonify(s.customer(reference.create_customer(api_user(), json_body()))), 201


@bp.get("/customer-branches")
def list_branches():
    """Active branches by code; a store manager sees their own."""
    return jsonify([s.branch(b) for b in reference.list_branches_for(api_user())])


@bp.post("/customer-branches")
def create_branch():
    return jsonify(s.branch(reference.create_branch(api_user(), json_body()))), 201


@bp.patch("/customer-branches/<branch_id>")
def update_branch(branch_id):
    return jsonify(s.branch(reference.update_branch(api_user(), branch_id, json_body())))
