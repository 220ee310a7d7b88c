"""MLflow over REST (the bot never imports the mlflow package)."""
