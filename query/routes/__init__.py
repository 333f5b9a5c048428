"""The API's routes, one router per resource; ``query.app.create_app`` includes them and adds the key guard."""
