"""GitLab behind the forge port: the gidgetlab client and the adapter."""
