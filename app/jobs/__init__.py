"""huey tasks, one module per concern; app.tasks imports them so the consumer sees them."""
