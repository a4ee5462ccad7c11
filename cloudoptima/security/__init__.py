"""Password hashing, API keys and credential encryption."""
