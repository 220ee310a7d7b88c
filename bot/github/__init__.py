"""GitHub access: App and token auth, transient-error policy, the dry-run recorder."""
