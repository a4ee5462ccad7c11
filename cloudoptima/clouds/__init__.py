"""Cloud provider protocol and its implementations (aws, azure, gcp, sandbox), which never import each other."""
