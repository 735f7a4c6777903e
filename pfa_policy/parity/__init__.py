"""Environment parity: a pilot is a smaller production, not a different system.

`discover` finds the systems of a repository and their environments (Kustomize overlays, Helm values per
environment, docker-compose beside Kubernetes, per-stage configuration of one CloudFormation template, Terraform
variable files); `features` reads from each rendered environment what it is made of (stores, components, mocks,
serving architecture, security, image repositories); `compare` pairs the pilot-like environments with the
production ones and keeps the differences in kind. Sizes (replicas, resources, instance types, names, tags)
are never compared.
"""
