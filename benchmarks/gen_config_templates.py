"""Non-Python file templates for the synthetic ML monorepo (used by gen_monorepo.py).

Kubernetes (Deployment, Service, Ingress, HPA, CronJob), KServe InferenceService, Seldon
SeldonDeployment, Helm values, CloudFormation and SAM templates (YAML with long-form
intrinsics so that ``yaml.safe_load`` parses them, and some in JSON), GitHub Actions and
GitLab CI, Dockerfiles, docker-compose, notebooks (nbformat 4), requirements, dvc.yaml,
MLproject and bentofile.yaml.

Every builder returns a ``Doc``: the text plus, when asked for a violation, its kind and
a marker string whose first occurrence locates the offending line.
"""

# ruff: noqa: E501  (template text mirrors the generated files, whose lines may be long)
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Project:
    domain: str
    model: str
    framework: str  # "fastapi" or "flask"
    version: str
    port: int

    @property
    def slug(self) -> str:
        return f"{self.domain}-{self.model}"

    @property
    def pkg(self) -> str:
        return f"{self.domain}_{self.model}"

    @property
    def path(self) -> str:
        return f"projects/{self.domain}/{self.model}"

    @property
    def ns(self) -> str:
        return f"ml-{self.domain}"

    @property
    def image(self) -> str:
        return f"registry.example.com/{self.domain}/{self.model}"


@dataclass
class Doc:
    text: str
    violation: str | None = None
    marker: str | None = None


def fake_sha(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def fake_digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("/".join(parts).encode()).hexdigest()


def gx(expr: str) -> str:
    """A GitHub Actions / GitLab expression ``${{ expr }}``."""
    return "${{ " + expr + " }}"


def _cpu(rng: random.Random) -> tuple[str, str]:
    req = rng.choice(["100m", "250m", "500m", "1", "2"])
    lim = {"100m": "500m", "250m": "1", "500m": "1", "1": "2", "2": "4"}[req]
    return req, lim


def _mem(rng: random.Random) -> tuple[str, str]:
    req = rng.choice(["256Mi", "512Mi", "1Gi", "2Gi", "4Gi"])
    lim = {"256Mi": "512Mi", "512Mi": "1Gi", "1Gi": "2Gi", "2Gi": "4Gi", "4Gi": "8Gi"}[req]
    return req, lim


def container_lines(
    rng: random.Random,
    p: Project,
    name: str,
    image: str,
    indent: int,
    violation: str | None,
    args: list[str] | None = None,
    port: int | None = None,
    probes: bool = True,
) -> list[str]:
    """A container spec as YAML lines (a list item) at ``indent`` spaces."""
    pad = " " * indent
    lines = [f"{pad}- name: {name}", f"{pad}  image: {image}", f"{pad}  imagePullPolicy: IfNotPresent"]
    if args:
        lines.append(f"{pad}  args:")
        lines += [f'{pad}    - "{a}"' for a in args]
    if port:
        lines += [f"{pad}  ports:", f"{pad}    - name: http", f"{pad}      containerPort: {port}",
                  f"{pad}      protocol: TCP"]
    lines += [
        f"{pad}  env:",
        f"{pad}    - name: MODEL_NAME",
        f"{pad}      value: {p.model}",
        f"{pad}    - name: APP_ENV",
        f"{pad}      value: {rng.choice(['prod', 'staging'])}",
        f"{pad}    - name: LOG_FORMAT",
        f"{pad}      value: json",
        f"{pad}    - name: AWS_REGION",
        f"{pad}      value: {rng.choice(['eu-west-1', 'us-east-1', 'us-west-2'])}",
        f"{pad}    - name: POD_NAME",
        f"{pad}      valueFrom:",
        f"{pad}        fieldRef:",
        f"{pad}          fieldPath: metadata.name",
    ]
    if rng.random() < 0.5:
        lines += [
            f"{pad}    - name: DB_PASSWORD",
            f"{pad}      valueFrom:",
            f"{pad}        secretKeyRef:",
            f"{pad}          name: {p.slug}-db",
            f"{pad}          key: password",
        ]
    if violation != "k8s-no-resources":
        cpu_req, cpu_lim = _cpu(rng)
        mem_req, mem_lim = _mem(rng)
        lines += [
            f"{pad}  resources:",
            f"{pad}    requests:",
            f'{pad}      cpu: "{cpu_req}"',
            f"{pad}      memory: {mem_req}",
            f"{pad}    limits:",
            f'{pad}      cpu: "{cpu_lim}"',
            f"{pad}      memory: {mem_lim}",
        ]
    if probes and port and violation != "k8s-no-probes":
        lines += [
            f"{pad}  readinessProbe:",
            f"{pad}    httpGet:",
            f"{pad}      path: /readyz",
            f"{pad}      port: http",
            f"{pad}    initialDelaySeconds: {rng.choice([5, 10, 15])}",
            f"{pad}    periodSeconds: 10",
            f"{pad}  livenessProbe:",
            f"{pad}    httpGet:",
            f"{pad}      path: /healthz",
            f"{pad}      port: http",
            f"{pad}    initialDelaySeconds: {rng.choice([15, 30, 60])}",
            f"{pad}    periodSeconds: 20",
            f"{pad}    failureThreshold: 3",
        ]
    lines += [f"{pad}  securityContext:"]
    if violation == "k8s-privileged":
        lines += [f"{pad}    privileged: true"]
    else:
        lines += [
            f"{pad}    allowPrivilegeEscalation: false",
            f"{pad}    readOnlyRootFilesystem: true",
            f"{pad}    capabilities:",
            f"{pad}      drop:",
            f"{pad}        - ALL",
        ]
    lines += [f"{pad}  volumeMounts:", f"{pad}    - name: tmp", f"{pad}      mountPath: /tmp"]
    return lines


def _image(p: Project, rng: random.Random, violation: str | None, suffix: str = "") -> str:
    if violation == "image-latest":
        return f"{p.image}{suffix}:latest"
    tag = f"{p.image}{suffix}:{p.version}"
    if rng.random() < 0.3:
        tag += "@" + fake_digest(p.slug, suffix, p.version)
    return tag


def _container_marker(name: str, violation: str | None, image: str) -> str | None:
    if violation in ("k8s-no-resources", "k8s-no-probes"):
        return f"- name: {name}"
    if violation == "k8s-privileged":
        return "privileged: true"
    if violation == "image-latest":
        return f"image: {image}"
    return None


def _meta(p: Project, name: str, extra_labels: dict[str, str] | None = None) -> list[str]:
    lines = [
        "metadata:",
        f"  name: {name}",
        f"  namespace: {p.ns}",
        "  labels:",
        f"    app.kubernetes.io/name: {name}",
        f"    app.kubernetes.io/part-of: {p.slug}",
        "    app.kubernetes.io/managed-by: argocd",
        f"    team: {p.domain}",
    ]
    for k, v in (extra_labels or {}).items():
        lines.append(f"    {k}: {v}")
    return lines


def k8s_deployment(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    image = _image(p, rng, violation)
    replicas = rng.choice([2, 3, 4, 6])
    lines = ["apiVersion: apps/v1", "kind: Deployment", *_meta(p, name), "spec:",
             f"  replicas: {replicas}", "  revisionHistoryLimit: 5", "  selector:", "    matchLabels:",
             f"      app.kubernetes.io/name: {name}", "  strategy:", "    type: RollingUpdate",
             "    rollingUpdate:", "      maxSurge: 1", "      maxUnavailable: 0", "  template:",
             "    metadata:", "      labels:", f"        app.kubernetes.io/name: {name}",
             f"        app.kubernetes.io/version: \"{p.version}\"", "      annotations:",
             '        prometheus.io/scrape: "true"', f'        prometheus.io/port: "{p.port}"', "    spec:",
             f"      serviceAccountName: {name}", "      automountServiceAccountToken: false",
             "      terminationGracePeriodSeconds: 30", "      securityContext:", "        runAsNonRoot: true",
             "        runAsUser: 10001", "        fsGroup: 10001", "        seccompProfile:",
             "          type: RuntimeDefault", "      containers:"]
    lines += container_lines(rng, p, "server", image, 8, violation,
                             args=["--workers", str(rng.choice([1, 2, 4])), "--port", str(p.port)], port=p.port)
    if rng.random() < 0.4:
        lines += container_lines(rng, p, "metrics-sidecar",
                                 f"registry.example.com/platform/statsd-exporter:0.{rng.randint(20, 28)}.0",
                                 8, None, port=9102, probes=False)
    lines += ["      volumes:", "        - name: tmp", "          emptyDir:", "            sizeLimit: 256Mi"]
    if rng.random() < 0.5:
        lines += ["      topologySpreadConstraints:", "        - maxSkew: 1",
                  "          topologyKey: topology.kubernetes.io/zone",
                  "          whenUnsatisfiable: ScheduleAnyway", "          labelSelector:",
                  "            matchLabels:", f"              app.kubernetes.io/name: {name}"]
    return Doc("\n".join(lines) + "\n", violation, _container_marker("server", violation, image))


def k8s_service(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    lines = ["apiVersion: v1", "kind: Service", *_meta(p, name), "spec:", "  type: ClusterIP", "  selector:",
             f"    app.kubernetes.io/name: {name}", "  ports:", "    - name: http", "      port: 80",
             "      targetPort: http", "      protocol: TCP"]
    if rng.random() < 0.3:
        lines += ["    - name: metrics", "      port: 9102", "      targetPort: 9102", "      protocol: TCP"]
    return Doc("\n".join(lines) + "\n")


def k8s_ingress(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    host = f"{p.model}.{p.domain}.ml.example.com"
    lines = ["apiVersion: networking.k8s.io/v1", "kind: Ingress", *_meta(p, name), "  annotations:",
             "    nginx.ingress.kubernetes.io/proxy-body-size: 8m",
             f'    nginx.ingress.kubernetes.io/proxy-read-timeout: "{rng.choice([30, 60, 120])}"',
             "    cert-manager.io/cluster-issuer: letsencrypt-prod", "spec:", "  ingressClassName: nginx"]
    if violation != "ingress-no-tls":
        lines += ["  tls:", "    - hosts:", f"        - {host}", f"      secretName: {name}-tls"]
    lines += ["  rules:", f"    - host: {host}", "      http:", "        paths:", "          - path: /",
              "            pathType: Prefix", "            backend:", "              service:",
              f"                name: {name}", "                port:", "                  name: http"]
    return Doc("\n".join(lines) + "\n", violation, "kind: Ingress" if violation else None)


def k8s_hpa(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    lo = rng.choice([2, 3])
    lines = ["apiVersion: autoscaling/v2", "kind: HorizontalPodAutoscaler", *_meta(p, name), "spec:",
             "  scaleTargetRef:", "    apiVersion: apps/v1", "    kind: Deployment", f"    name: {name}",
             f"  minReplicas: {lo}", f"  maxReplicas: {lo * rng.choice([3, 4, 5])}", "  metrics:",
             "    - type: Resource", "      resource:", "        name: cpu", "        target:",
             "          type: Utilization", f"          averageUtilization: {rng.choice([60, 65, 70, 75])}",
             "  behavior:", "    scaleDown:", "      stabilizationWindowSeconds: 300", "      policies:",
             "        - type: Percent", "          value: 50", "          periodSeconds: 60"]
    return Doc("\n".join(lines) + "\n")


def k8s_cronjob(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    image = _image(p, rng, violation, "-jobs")
    sched = rng.choice(["0 3 * * *", "30 */6 * * *", "15 2 * * 1", "0 5 * * *"])
    lines = ["apiVersion: batch/v1", "kind: CronJob", *_meta(p, name), "spec:", f'  schedule: "{sched}"',
             "  concurrencyPolicy: Forbid", "  successfulJobsHistoryLimit: 3", "  failedJobsHistoryLimit: 5",
             "  jobTemplate:", "    spec:", f"      backoffLimit: {rng.choice([1, 2, 3])}",
             f"      activeDeadlineSeconds: {rng.choice([3600, 7200, 14400])}", "      template:", "        metadata:",
             "          labels:", f"            app.kubernetes.io/name: {name}", "        spec:",
             "          restartPolicy: Never", f"          serviceAccountName: {p.slug}-batch",
             "          securityContext:", "            runAsNonRoot: true", "            runAsUser: 10001",
             "          containers:"]
    task = rng.choice(["score", "refresh-features", "export-metrics", "retrain"])
    lines += container_lines(rng, p, task, image, 12, violation,
                             args=["python", "-m", f"{p.pkg}.jobs.{task.replace('-', '_')}", "--date", "yesterday"])
    lines += ["          volumes:", "            - name: tmp", "              emptyDir: {}"]
    return Doc("\n".join(lines) + "\n", violation, _container_marker(task, violation, image))


def kserve_isvc(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    fmt = rng.choice(["sklearn", "xgboost", "lightgbm", "onnx"])
    lines = ["apiVersion: serving.kserve.io/v1beta1", "kind: InferenceService", *_meta(p, name),
             "  annotations:", "    serving.kserve.io/deploymentMode: RawDeployment",
             "    serving.kserve.io/autoscalerClass: hpa", "spec:", "  predictor:",
             f"    minReplicas: {rng.choice([1, 2, 3])}", f"    maxReplicas: {rng.choice([4, 6, 10])}",
             f"    serviceAccountName: {p.slug}-kserve"]
    if rng.random() < 0.6:
        lines += ["    logger:", "      mode: all", f"      url: https://inference-log.{p.ns}.svc.cluster.local/ingest"]
    lines += ["    model:", "      modelFormat:", f"        name: {fmt}",
              f"      storageUri: s3://{p.slug}-models/{p.model}/{p.version}/",
              "      protocolVersion: v2"]
    if violation == "image-latest":
        lines += ["      runtime: custom", f"      image: {p.image}-runtime:latest"]
    if violation != "k8s-no-resources":
        cpu_req, cpu_lim = _cpu(rng)
        mem_req, mem_lim = _mem(rng)
        lines += ["      resources:", "        requests:", f'          cpu: "{cpu_req}"', f"          memory: {mem_req}",
                  "        limits:", f'          cpu: "{cpu_lim}"', f"          memory: {mem_lim}"]
    marker = {"image-latest": f"image: {p.image}-runtime:latest", "k8s-no-resources": "model:"}.get(violation or "")
    return Doc("\n".join(lines) + "\n", violation, marker)


def seldon_deployment(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    image = _image(p, rng, violation, "-seldon")
    lines = ["apiVersion: machinelearning.seldon.io/v1", "kind: SeldonDeployment", *_meta(p, name), "spec:",
             f"  name: {name}", "  protocol: v2", "  predictors:", "    - name: default",
             f"      replicas: {rng.choice([2, 3])}", "      traffic: 100", "      graph:", "        name: classifier",
             "        type: MODEL", f"        modelUri: s3://{p.slug}-models/{p.model}/{p.version}",
             "        envSecretRefName: seldon-s3-credentials", "        children: []", "      componentSpecs:",
             "        - spec:", "            containers:"]
    lines += container_lines(rng, p, "classifier", image, 14, violation, port=9000)
    lines += ["            volumes:", "              - name: tmp", "                emptyDir: {}"]
    return Doc("\n".join(lines) + "\n", violation, _container_marker("classifier", violation, image))


def helm_values(rng: random.Random, p: Project, env: str, violation: str | None) -> Doc:
    tag = "latest" if violation == "image-latest" else p.version
    lines = [f"# Values for {p.slug} ({env}).", f"nameOverride: {p.slug}", "replicaCount: "
             + str(rng.choice([2, 3, 4])), "", "image:", f"  repository: {p.image}", f'  tag: "{tag}"',
             "  pullPolicy: IfNotPresent", "", "serviceAccount:", "  create: true", "  annotations:",
             f"    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/{p.slug}-{env}", "",
             "podSecurityContext:", "  runAsNonRoot: true", "  runAsUser: 10001", "  fsGroup: 10001", "",
             "securityContext:"]
    if violation == "k8s-privileged":
        lines += ["  privileged: true"]
    else:
        lines += ["  allowPrivilegeEscalation: false", "  readOnlyRootFilesystem: true", "  capabilities:",
                  "    drop: [ALL]"]
    lines += ["", "service:", "  type: ClusterIP", "  port: 80", f"  targetPort: {p.port}", "", "ingress:",
              "  enabled: true", "  className: nginx", "  hosts:", f"    - host: {p.model}.{env}.ml.example.com",
              "      paths:", "        - path: /", "          pathType: Prefix", "  tls:",
              f"    - secretName: {p.slug}-tls", "      hosts:", f"        - {p.model}.{env}.ml.example.com", ""]
    if violation == "k8s-no-resources":
        lines += ["resources: {}"]
    else:
        cpu_req, cpu_lim = _cpu(rng)
        mem_req, mem_lim = _mem(rng)
        lines += ["resources:", "  requests:", f"    cpu: {cpu_req}", f"    memory: {mem_req}", "  limits:",
                  f"    cpu: {cpu_lim}", f"    memory: {mem_lim}"]
    lines += ["", "probes:", "  readiness:", "    path: /readyz", "    initialDelaySeconds: 10", "  liveness:",
              "    path: /healthz", "    initialDelaySeconds: 30", "", "autoscaling:", "  enabled: true",
              f"  minReplicas: {rng.choice([2, 3])}", f"  maxReplicas: {rng.choice([6, 8, 12])}",
              f"  targetCPUUtilizationPercentage: {rng.choice([60, 70, 75])}", "", "env:",
              f"  MODEL_URI: s3://{p.slug}-models/{p.model}/{p.version}", f"  LOG_LEVEL: {rng.choice(['INFO', 'WARNING'])}",
              f"  FEATURE_SERVICE_URL: https://features.{p.domain}.svc.cluster.local", "",
              "nodeSelector:", "  workload: ml-serving", "", "tolerations:", "  - key: dedicated",
              "    operator: Equal", "    value: ml", "    effect: NoSchedule"]
    marker = {"image-latest": 'tag: "latest"', "k8s-privileged": "privileged: true",
              "k8s-no-resources": "resources: {}"}.get(violation or "")
    return Doc("\n".join(lines) + "\n", violation, marker)


def helm_chart(p: Project) -> str:
    return (f"apiVersion: v2\nname: {p.slug}\ndescription: Serving chart for the {p.domain} {p.model} model\n"
            f"type: application\nversion: 0.{len(p.model)}.0\nappVersion: \"{p.version}\"\n"
            "dependencies:\n  - name: common\n    version: 2.19.1\n    repository: oci://registry.example.com/charts\n")


def _s3_bucket(rng: random.Random, p: Project, logical: str, violation: str | None) -> list[str]:
    lines = [f"  {logical}:", "    Type: AWS::S3::Bucket", "    DeletionPolicy: Retain", "    Properties:",
             "      BucketName:", f"        Fn::Sub: {p.slug}-{logical.lower()}-${{AWS::AccountId}}-${{AWS::Region}}"]
    if violation != "s3-no-encryption":
        if rng.random() < 0.5:
            lines += ["      BucketEncryption:", "        ServerSideEncryptionConfiguration:",
                      "          - ServerSideEncryptionByDefault:", "              SSEAlgorithm: aws:kms",
                      "              KMSMasterKeyID:", "                Ref: DataKey", "            BucketKeyEnabled: true"]
        else:
            lines += ["      BucketEncryption:", "        ServerSideEncryptionConfiguration:",
                      "          - ServerSideEncryptionByDefault:", "              SSEAlgorithm: AES256"]
    lines += ["      PublicAccessBlockConfiguration:", "        BlockPublicAcls: true", "        BlockPublicPolicy: true",
              "        IgnorePublicAcls: true", "        RestrictPublicBuckets: true", "      VersioningConfiguration:",
              "        Status: Enabled", "      LifecycleConfiguration:", "        Rules:",
              f"          - Id: expire-{rng.choice(['tmp', 'scratch', 'staging'])}", "            Status: Enabled",
              f"            Prefix: {rng.choice(['tmp/', 'scratch/', 'staging/'])}",
              f"            ExpirationInDays: {rng.choice([7, 14, 30])}", "      Tags:", "        - Key: team",
              f"          Value: {p.domain}", "        - Key: project", f"          Value: {p.slug}"]
    return lines


def cloudformation(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    instance = rng.choice(["ml.m5.large", "ml.c5.xlarge", "ml.m5.xlarge", "ml.g4dn.xlarge"])
    lines = ["AWSTemplateFormatVersion: \"2010-09-09\"",
             f"Description: SageMaker endpoint and data bucket for {p.slug} ({name})", "Parameters:",
             "  Environment:", "    Type: String", "    AllowedValues: [dev, staging, prod]", "    Default: dev",
             "  ModelVersion:", "    Type: String", f"    Default: \"{p.version}\"", "Resources:", "  DataKey:",
             "    Type: AWS::KMS::Key", "    Properties:", f"      Description: {p.slug} data key",
             "      EnableKeyRotation: true", "      KeyPolicy:", "        Version: \"2012-10-17\"",
             "        Statement:", "          - Sid: AllowAccountAdmin", "            Effect: Allow",
             "            Principal:", "              AWS:", "                Fn::Sub: arn:aws:iam::${AWS::AccountId}:root",
             "            Action: kms:*", "            Resource: \"*\""]
    lines += _s3_bucket(rng, p, "ArtifactBucket", violation)
    lines += ["  ExecutionRole:", "    Type: AWS::IAM::Role", "    Properties:", "      AssumeRolePolicyDocument:",
              "        Version: \"2012-10-17\"", "        Statement:", "          - Effect: Allow", "            Principal:",
              "              Service: sagemaker.amazonaws.com", "            Action: sts:AssumeRole", "      Policies:",
              "        - PolicyName: read-artifacts", "          PolicyDocument:", "            Version: \"2012-10-17\"",
              "            Statement:", "              - Effect: Allow", "                Action:",
              "                  - s3:GetObject", "                  - s3:ListBucket", "                Resource:",
              "                  - Fn::GetAtt: [ArtifactBucket, Arn]",
              "                  - Fn::Sub: ${ArtifactBucket.Arn}/*", "  Model:", "    Type: AWS::SageMaker::Model",
              "    Properties:", "      ExecutionRoleArn:", "        Fn::GetAtt: [ExecutionRole, Arn]",
              "      PrimaryContainer:", "        Image:",
              f"          Fn::Sub: ${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.amazonaws.com/{p.slug}:${{ModelVersion}}",
              "        ModelDataUrl:", f"          Fn::Sub: s3://${{ArtifactBucket}}/{p.model}/${{ModelVersion}}/model.tar.gz",
              "        Environment:", f"          MODEL_NAME: {p.model}", "      VpcConfig:", "        SecurityGroupIds:",
              "          - Fn::ImportValue: ml-platform-sg", "        Subnets:",
              "          - Fn::ImportValue: ml-platform-subnet-a", "          - Fn::ImportValue: ml-platform-subnet-b",
              "  EndpointConfig:", "    Type: AWS::SageMaker::EndpointConfig", "    Properties:", "      KmsKeyId:",
              "        Ref: DataKey", "      ProductionVariants:", "        - VariantName: primary", "          ModelName:",
              "            Fn::GetAtt: [Model, ModelName]", f"          InstanceType: {instance}",
              f"          InitialInstanceCount: {rng.choice([1, 2, 3])}", "          InitialVariantWeight: 1.0",
              "      DataCaptureConfig:", "        EnableCapture: true", "        InitialSamplingPercentage: 10",
              "        DestinationS3Uri:", "          Fn::Sub: s3://${ArtifactBucket}/capture/",
              "        CaptureOptions:", "          - CaptureMode: Input", "          - CaptureMode: Output",
              "  Endpoint:", "    Type: AWS::SageMaker::Endpoint", "    Properties:", "      EndpointName:",
              f"        Fn::Sub: {p.slug}-${{Environment}}", "      EndpointConfigName:",
              "        Fn::GetAtt: [EndpointConfig, EndpointConfigName]", "Outputs:", "  EndpointName:", "    Value:",
              "      Fn::GetAtt: [Endpoint, EndpointName]", "    Export:", "      Name:",
              "        Fn::Sub: ${AWS::StackName}-endpoint", "  BucketName:", "    Value:", "      Ref: ArtifactBucket"]
    marker = "Type: AWS::S3::Bucket" if violation else None
    return Doc("\n".join(lines) + "\n", violation, marker)


def sam_template(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    lines = ["AWSTemplateFormatVersion: \"2010-09-09\"", "Transform: AWS::Serverless-2016-10-31",
             f"Description: Lightweight scoring API for {p.slug}", "Globals:", "  Function:",
             f"    Timeout: {rng.choice([10, 15, 30])}", f"    MemorySize: {rng.choice([512, 1024, 2048])}",
             "    Runtime: python3.11", "    Tracing: Active", "    Environment:", "      Variables:",
             f"        MODEL_NAME: {p.model}", "        LOG_LEVEL: INFO", "Resources:", "  DataKey:",
             "    Type: AWS::KMS::Key", "    Properties:", "      EnableKeyRotation: true", "      KeyPolicy:",
             "        Version: \"2012-10-17\"", "        Statement:", "          - Effect: Allow", "            Principal:",
             "              AWS:", "                Fn::Sub: arn:aws:iam::${AWS::AccountId}:root",
             "            Action: kms:*", "            Resource: \"*\""]
    lines += _s3_bucket(rng, p, "ScoresBucket", violation)
    lines += ["  ScoreFunction:", "    Type: AWS::Serverless::Function", "    Properties:",
              f"      CodeUri: {p.path}/src/", f"      Handler: {p.pkg}.serving.lambda_handler.handler",
              "      Policies:", "        - S3WritePolicy:", "            BucketName:", "              Ref: ScoresBucket",
              "        - Statement:", "            - Effect: Allow", "              Action: sagemaker:InvokeEndpoint",
              "              Resource:", f"                Fn::Sub: arn:aws:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:endpoint/{p.slug}-*",
              "      Events:", "        Score:", "          Type: Api", "          Properties:",
              f"            Path: /{p.model}/score", "            Method: post", "      Environment:",
              "        Variables:", "          SCORES_BUCKET:", "            Ref: ScoresBucket", "Outputs:",
              "  ApiUrl:", "    Value:",
              f"      Fn::Sub: https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/{p.model}/score"]
    marker = "Type: AWS::S3::Bucket" if violation else None
    return Doc("\n".join(lines) + "\n", violation, marker)


def cloudformation_json(rng: random.Random, p: Project, name: str, violation: str | None) -> Doc:
    bucket_props: dict[str, object] = {
        "BucketName": {"Fn::Sub": f"{p.slug}-features-${{AWS::AccountId}}"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "VersioningConfiguration": {"Status": "Enabled"},
    }
    if violation != "s3-no-encryption":
        bucket_props["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]}
    tmpl = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Feature store offline bucket and Glue database for {p.slug}",
        "Resources": {
            "FeatureBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": bucket_props},
            "GlueDatabase": {"Type": "AWS::Glue::Database", "Properties": {
                "CatalogId": {"Ref": "AWS::AccountId"},
                "DatabaseInput": {"Name": f"{p.pkg}_features", "Description": f"{p.model} offline features"}}},
            "FeatureGroup": {"Type": "AWS::SageMaker::FeatureGroup", "Properties": {
                "FeatureGroupName": f"{p.slug}-{name}",
                "RecordIdentifierFeatureName": "entity_id",
                "EventTimeFeatureName": "event_ts",
                "FeatureDefinitions": [
                    {"FeatureName": "entity_id", "FeatureType": "Integral"},
                    {"FeatureName": "event_ts", "FeatureType": "String"},
                ] + [{"FeatureName": f"f_{i}", "FeatureType": "Fractional"} for i in range(rng.randint(4, 12))],
                "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": {"Fn::Sub": "s3://${FeatureBucket}/offline"}}},
                "OnlineStoreConfig": {"EnableOnlineStore": True}}},
        },
    }
    text = json.dumps(tmpl, indent=2) + "\n"
    return Doc(text, violation, '"Type": "AWS::S3::Bucket"' if violation else None)


# --------------------------------------------------------------------------------------
# CI
# --------------------------------------------------------------------------------------
ACTIONS = {
    "actions/checkout": "v4.1.7",
    "actions/setup-python": "v5.1.1",
    "actions/cache": "v4.0.2",
    "actions/upload-artifact": "v4.3.4",
    "aws-actions/configure-aws-credentials": "v4.0.2",
    "docker/setup-buildx-action": "v3.4.0",
    "docker/build-push-action": "v6.4.1",
    "github/codeql-action/upload-sarif": "v3.25.12",
}
UNPINNED = ["some-org/setup-tool@v1", "acme/slack-notify@v2", "ml-tools/dvc-setup@main", "example/sarif-comment@v1"]


def _uses(name: str) -> str:
    return f"{name}@{fake_sha(name, ACTIONS[name])} # {ACTIONS[name]}"


def github_workflow(rng: random.Random, p: Project, violation: str | None) -> Doc:
    bad = rng.choice(UNPINNED) if violation == "action-unpinned" else None
    lines = [f"name: {p.slug}", "", "on:", "  push:", "    branches: [main]", "    paths:",
             f'      - "{p.path}/**"', f'      - ".github/workflows/{p.slug}.yml"', "  pull_request:", "    paths:",
             f'      - "{p.path}/**"', "", "permissions:", "  contents: read", "", "concurrency:",
             f"  group: {gx('github.workflow')}-{gx('github.ref')}", "  cancel-in-progress: true", "", "jobs:",
             "  test:", "    runs-on: ubuntu-22.04", "    timeout-minutes: 30", "    defaults:", "      run:",
             f"        working-directory: {p.path}", "    strategy:", "      fail-fast: false", "      matrix:",
             '        python: ["3.10", "3.11"]', "    steps:", f"      - uses: {_uses('actions/checkout')}",
             "        with:", "          persist-credentials: false", f"      - uses: {_uses('actions/setup-python')}",
             "        with:", f"          python-version: {gx('matrix.python')}", "          cache: pip",
             "      - name: Install", "        run: |", "          python -m pip install --upgrade pip",
             "          pip install -r requirements.txt -r requirements-dev.txt", "      - name: Lint",
             "        run: ruff check src tests", "      - name: Test",
             "        run: pytest -q --maxfail=1 --cov=src --cov-report=xml tests"]
    if bad:
        lines += ["      - name: Notify", f"        uses: {bad}", "        with:", f"          channel: {p.domain}-ml"]
    lines += [f"      - uses: {_uses('actions/upload-artifact')}", f"        if: {gx('always()')}", "        with:",
              f"          name: coverage-{gx('matrix.python')}", f"          path: {p.path}/coverage.xml", "",
              "  image:", "    needs: test", "    if: github.event_name == 'push'", "    runs-on: ubuntu-22.04",
              "    permissions:", "      contents: read", "      id-token: write", "    steps:",
              f"      - uses: {_uses('actions/checkout')}", "        with:", "          persist-credentials: false",
              f"      - uses: {_uses('aws-actions/configure-aws-credentials')}", "        with:",
              f"          role-to-assume: arn:aws:iam::123456789012:role/gha-{p.slug}",
              "          aws-region: eu-west-1", f"      - uses: {_uses('docker/setup-buildx-action')}",
              f"      - uses: {_uses('docker/build-push-action')}", "        with:", f"          context: {p.path}",
              "          push: true", f"          tags: {p.image}:{gx('github.sha')}",
              "          cache-from: type=gha", "          cache-to: type=gha,mode=max"]
    return Doc("\n".join(lines) + "\n", violation, f"uses: {bad}" if bad else None)


def gitlab_root(projects: list[Project]) -> str:
    lines = ["# Root pipeline: each project contributes its own jobs through an include.", "stages:", "  - lint",
             "  - test", "  - build", "  - deploy", "", "variables:", '  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"',
             '  PYTHONUNBUFFERED: "1"', "", "default:", "  image: python:3.11.9-slim", "  interruptible: true",
             "  cache:", "    key: pip-$CI_COMMIT_REF_SLUG", "    paths:", "      - .cache/pip", "", "include:"]
    for p in projects:
        lines.append(f"  - local: {p.path}/.gitlab-ci.yml")
    return "\n".join(lines) + "\n"


def gitlab_project(rng: random.Random, p: Project, violation: str | None) -> Doc:
    image = "python:latest" if violation == "image-latest" else "python:3.11.9-slim"
    lines = [f".{p.slug}-rules:", "  rules:", "    - changes:", f"        - {p.path}/**/*", "", f"{p.slug}:lint:",
             "  stage: lint", f"  extends: .{p.slug}-rules", f"  image: {image}", "  script:",
             f"    - cd {p.path}", "    - pip install ruff==0.5.5", "    - ruff check src tests", "",
             f"{p.slug}:test:", "  stage: test", f"  extends: .{p.slug}-rules", "  image: python:3.11.9-slim",
             "  script:", f"    - cd {p.path}", "    - pip install -r requirements.txt -r requirements-dev.txt",
             "    - pytest -q --junitxml=report.xml tests", "  artifacts:", "    when: always", "    reports:",
             f"      junit: {p.path}/report.xml", "", f"{p.slug}:build:", "  stage: build",
             f"  extends: .{p.slug}-rules", "  image:", "    name: gcr.io/kaniko-project/executor:v1.23.2-debug",
             '    entrypoint: [""]', "  script:", "    - /kaniko/executor", f"      --context {p.path}",
             f"      --dockerfile {p.path}/Dockerfile", f"      --destination {p.image}:$CI_COMMIT_SHORT_SHA",
             "  only:", "    - main"]
    return Doc("\n".join(lines) + "\n", violation, f"image: {image}" if violation else None)


# --------------------------------------------------------------------------------------
# containers
# --------------------------------------------------------------------------------------
def dockerfile(rng: random.Random, p: Project, role: str, violation: str | None) -> Doc:
    base = "python" if violation == "dockerfile-untagged-base" else rng.choice(
        ["python:3.11.9-slim", "python:3.11.9-slim-bookworm", "python:3.10.14-slim"])
    module = f"{p.pkg}.serving.app:app"
    if role == "serving" and p.framework == "fastapi":
        cmd = f'CMD ["uvicorn", "{module}", "--host", "0.0.0.0", "--port", "{p.port}", "--workers", "2"]'
    elif role == "serving":
        cmd = f'CMD ["gunicorn", "--bind", "0.0.0.0:{p.port}", "--workers", "2", "{p.pkg}.serving.app:create_app()"]'
    else:
        cmd = f'ENTRYPOINT ["python", "-m", "{p.pkg}.training.train"]'
    lines = ["# syntax=docker/dockerfile:1.7", f"FROM {base} AS builder",
             "ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1", "WORKDIR /build",
             "RUN apt-get update \\", "    && apt-get install -y --no-install-recommends build-essential \\",
             "    && rm -rf /var/lib/apt/lists/*", "COPY requirements.txt .",
             "RUN pip wheel --wheel-dir /wheels -r requirements.txt", "",
             f"FROM {'python:3.11.9-slim' if violation else base}",
             f'LABEL org.opencontainers.image.title="{p.slug}-{role}" \\',
             f'      org.opencontainers.image.version="{p.version}" \\',
             f'      com.example.team="{p.domain}"',
             "RUN groupadd --system app && useradd --system --gid app --uid 10001 --home /app app",
             "WORKDIR /app", "COPY --from=builder /wheels /wheels",
             "RUN pip install --no-index --find-links=/wheels /wheels/* && rm -rf /wheels",
             "COPY src/ ./src/", f"ENV PYTHONPATH=/app/src PORT={p.port} PYTHONDONTWRITEBYTECODE=1", "USER app"]
    if role == "serving":
        lines += [f"EXPOSE {p.port}",
                  "HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\",
                  f"  CMD python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{p.port}/healthz', timeout=2)\""]
    lines.append(cmd)
    return Doc("\n".join(lines) + "\n", violation, "FROM python AS builder" if violation else None)


def docker_compose(rng: random.Random, p: Project, violation: str | None) -> Doc:
    redis = "redis:latest" if violation == "image-latest" else "redis:7.2.5-alpine"
    lines = ["services:", "  api:", "    build:", "      context: .", "      dockerfile: Dockerfile",
             f"    image: {p.image}:dev", "    ports:", f'      - "{p.port}:{p.port}"', "    environment:",
             "      APP_ENV: dev", "      MODEL_PATH: /models/model.joblib", "      REDIS_URL: redis://cache:6379/0",
             "      MLFLOW_TRACKING_URI: https://mlflow.example.com", "    volumes:", "      - ./artifacts:/models:ro",
             "    depends_on:", "      cache:", "        condition: service_healthy", "    healthcheck:",
             f'      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen(\'http://127.0.0.1:{p.port}/healthz\', timeout=2)"]',
             "      interval: 15s", "      timeout: 3s", "      retries: 5", "    deploy:", "      resources:",
             "        limits:", f'          cpus: "{rng.choice(["1", "2"])}"', f"          memory: {rng.choice(['1g', '2g'])}"]
    if violation == "k8s-privileged":
        lines += ["    privileged: true"]
    lines += ["  cache:", f"    image: {redis}", "    command: [\"redis-server\", \"--save\", \"\", \"--appendonly\", \"no\"]",
              "    healthcheck:", '      test: ["CMD", "redis-cli", "ping"]', "      interval: 10s", "      timeout: 2s",
              "      retries: 5"]
    if rng.random() < 0.5:
        lines += ["  worker:", f"    image: {p.image}-jobs:{p.version}",
                  f'    command: ["python", "-m", "{p.pkg}.jobs.worker"]', "    environment:", "      APP_ENV: dev",
                  "    depends_on:", "      - cache"]
    marker = {"image-latest": f"image: {redis}", "k8s-privileged": "privileged: true"}.get(violation or "")
    return Doc("\n".join(lines) + "\n", violation, marker)


# --------------------------------------------------------------------------------------
# ML project files
# --------------------------------------------------------------------------------------
PINNED = [
    "pandas==2.2.2", "numpy==1.26.4", "scikit-learn==1.5.1", "joblib==1.4.2", "pyarrow==16.1.0",
    "requests==2.32.3", "httpx==0.27.0", "pydantic==2.8.2", "PyYAML==6.0.1", "boto3==1.34.144",
    "mlflow-skinny==2.14.3", "prometheus-client==0.20.0", "structlog==24.2.0", "tenacity==8.5.0",
]
SERVING = {"fastapi": ["fastapi==0.111.1", "uvicorn[standard]==0.30.3"], "flask": ["flask==3.0.3", "gunicorn==22.0.0"]}


def requirements(rng: random.Random, p: Project) -> str:
    pkgs = sorted(set(rng.sample(PINNED, rng.randint(7, len(PINNED))) + SERVING[p.framework]), key=str.lower)
    return f"# runtime dependencies for {p.slug}\n" + "\n".join(pkgs) + "\n"


def requirements_dev(rng: random.Random) -> str:
    return ("-r requirements.txt\npytest==8.3.1\npytest-cov==5.0.0\nruff==0.5.5\nmypy==1.11.0\n"
            "types-requests==2.32.0.20240712\n" + ("hypothesis==6.108.4\n" if rng.random() < 0.5 else ""))


def dvc_yaml(rng: random.Random, p: Project) -> str:
    return f"""stages:
  prepare:
    cmd: python -m {p.pkg}.features.prepare --date ${{prepare.date}}
    deps:
      - src/{p.pkg}/features
      - data/raw
    params:
      - prepare
    outs:
      - data/prepared
  featurize:
    cmd: python -m {p.pkg}.features.build --window-days ${{featurize.window_days}}
    deps:
      - src/{p.pkg}/features
      - data/prepared
    params:
      - featurize.window_days
      - featurize.min_count
    outs:
      - data/features.parquet
  train:
    cmd: python -m {p.pkg}.training.train --train-path data/features.parquet --output-dir models
    deps:
      - src/{p.pkg}/training
      - data/features.parquet
    params:
      - train
    outs:
      - models/model.joblib
    metrics:
      - models/metrics.json:
          cache: false
  evaluate:
    cmd: python -m {p.pkg}.training.evaluate --model models/model.joblib --out reports
    deps:
      - models/model.joblib
      - data/features.parquet
    metrics:
      - reports/eval.json:
          cache: false
    plots:
      - reports/pr_curve.csv:
          x: recall
          y: precision
"""


def params_yaml(rng: random.Random, p: Project) -> str:
    return (f"prepare:\n  date: \"2024-06-{rng.randint(10, 28)}\"\n  sample_frac: {rng.choice([0.1, 0.25, 1.0])}\n"
            f"featurize:\n  window_days: {rng.choice([7, 14, 28])}\n  min_count: {rng.choice([5, 20, 50])}\n"
            f"train:\n  n_estimators: {rng.choice([200, 300, 500])}\n  max_depth: {rng.choice([4, 6, 8])}\n"
            f"  learning_rate: {rng.choice([0.03, 0.05, 0.1])}\n  seed: {rng.choice([7, 42])}\n")


def mlproject(rng: random.Random, p: Project) -> str:
    return f"""name: {p.slug}

python_env: python_env.yaml

entry_points:
  main:
    parameters:
      train_path: {{type: str, default: "s3://{p.slug}-data/datasets/{p.model}/train.parquet"}}
      n_estimators: {{type: int, default: {rng.choice([100, 200, 400])}}}
      max_depth: {{type: int, default: {rng.choice([4, 6, 8])}}}
    command: "python -m {p.pkg}.training.train --train-path {{train_path}} --n-estimators {{n_estimators}} --max-depth {{max_depth}}"
  evaluate:
    parameters:
      model_uri: str
    command: "python -m {p.pkg}.training.evaluate --model {{model_uri}}"
"""


def python_env(p: Project) -> str:
    return "python: \"3.11\"\nbuild_dependencies:\n  - pip\ndependencies:\n  - -r requirements.txt\n"


def bentofile(rng: random.Random, p: Project) -> str:
    return f"""service: "{p.pkg}.serving.bento_service:svc"
labels:
  owner: {p.domain}-ml
  project: {p.slug}
  stage: {rng.choice(["production", "staging"])}
include:
  - "src/{p.pkg}/**/*.py"
exclude:
  - "tests/"
  - "notebooks/"
python:
  requirements_txt: "./requirements.txt"
  lock_packages: true
docker:
  python_version: "3.11"
  distro: debian
  system_packages:
    - libgomp1
"""


# --------------------------------------------------------------------------------------
# notebooks
# --------------------------------------------------------------------------------------
NB_CELLS = [
    ("markdown", "# {title}\n\nExploration notebook for the {domain} {model} model. Data is read from the\n"
                 "curated layer; do not write back from here."),
    ("code", "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n\n"
             "pd.set_option(\"display.max_columns\", 50)\n%matplotlib inline"),
    ("code", "df = pd.read_parquet(\"s3://{bucket}/datasets/{model}/sample.parquet\")\ndf.shape"),
    ("code", "df.head()"),
    ("code", "df.describe(include=\"all\").T"),
    ("markdown", "## Label balance and missing values"),
    ("code", "df[\"label\"].value_counts(normalize=True)"),
    ("code", "missing = df.isna().mean().sort_values(ascending=False)\nmissing[missing > 0].head(20)"),
    ("code", "fig, ax = plt.subplots(figsize=(8, 4))\ndf[\"{col}\"].clip(upper=df[\"{col}\"].quantile(0.99)).hist(bins=50, ax=ax)\n"
             "ax.set_title(\"{col} (clipped at p99)\")"),
    ("markdown", "## Quick baseline"),
    ("code", "from sklearn.linear_model import LogisticRegression\nfrom sklearn.metrics import roc_auc_score\n"
             "from sklearn.model_selection import train_test_split\n\n"
             "features = [\"{col}\", \"{col2}\"]\nX_train, X_test, y_train, y_test = train_test_split(\n"
             "    df[features].fillna(0), df[\"label\"], test_size=0.2, random_state=7\n)\n"
             "clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)\n"
             "roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])"),
    ("code", "corr = df.select_dtypes(\"number\").corr()\ncorr[\"label\"].sort_values()"),
    ("markdown", "Findings: `{col}` is heavy-tailed; `{col2}` adds little on top of it."),
]
NB_VIOLATIONS = {
    "hardcoded-password": ("code", "import sqlalchemy\n\npassword = \"Warehouse-{pw}!\"\n"
                           "engine = sqlalchemy.create_engine(f\"postgresql://analyst:{{password}}@warehouse.example.com/ml\")",
                           "password = \""),
    "tls-verify-disabled": ("code", "import requests\n\nresp = requests.get(\"https://internal-api.example.com/v1/{model}/sample\", "
                            "timeout=10, verify=False)\nresp.status_code", "verify=False"),
    "requests-no-timeout": ("code", "import requests\n\nrows = requests.get(\"https://features.example.com/v1/{model}/sample\").json()\n"
                            "len(rows)", "requests.get("),
    "hardcoded-data-path": ("code", "local = pd.read_csv(\"data/train.csv\")\nlocal.shape", "pd.read_csv(\"data/train.csv\")"),
}


def notebook(rng: random.Random, p: Project, title: str, violation: str | None, seed: str) -> Doc:
    values = {
        "title": title, "domain": p.domain, "model": p.model, "bucket": f"{p.slug}-data",
        "col": rng.choice(["amount", "duration_s", "basket_size", "latency_ms"]),
        "col2": rng.choice(["tenure_days", "page_views", "rating", "discount"]),
        "pw": str(rng.randint(1000, 9999)),
    }
    chosen = NB_CELLS[:5] + [c for c in NB_CELLS[5:] if rng.random() < 0.8]
    cells_src = [(kind, src.format(**values)) for kind, src in chosen]
    marker = None
    if violation in NB_VIOLATIONS:
        kind, src, marker = NB_VIOLATIONS[violation]
        cells_src.insert(rng.randint(2, len(cells_src)), (kind, src.format(**values)))
    cells: list[dict[str, object]] = []
    count = 0
    for i, (kind, src) in enumerate(cells_src):
        lines = src.split("\n")
        source = [ln + "\n" for ln in lines[:-1]] + [lines[-1]]
        cell_id = hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:8]
        if kind == "markdown":
            cells.append({"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source})
            continue
        count += 1
        outputs: list[dict[str, object]] = []
        last = lines[-1]
        if last and not last.startswith(("%", "import", "from", "fig", "features")) and "=" not in last.split("(")[0]:
            outputs.append({"data": {"text/plain": [f"<{last.split('(')[0].split('.')[-1]} output>"]},
                            "execution_count": count, "metadata": {}, "output_type": "execute_result"})
        cells.append({"cell_type": "code", "execution_count": count, "id": cell_id, "metadata": {},
                      "outputs": outputs, "source": source})
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                              "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                              "pygments_lexer": "ipython3", "version": "3.11.9"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return Doc(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", violation if marker else None,
               json.dumps(marker)[1:-1] if marker else None)


def project_readme(p: Project) -> str:
    return f"""# {p.slug}

The {p.model} model of the {p.domain} team.

| what | where |
| --- | --- |
| features | `src/{p.pkg}/features/` |
| training | `src/{p.pkg}/training/` (entry point `python -m {p.pkg}.training.train`) |
| serving | `src/{p.pkg}/serving/` ({p.framework}) |
| DAGs | `dags/` |
| manifests | `deploy/` at the repository root |

## Local development

```bash
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt -r requirements-dev.txt
pytest -q tests
```
"""


def pyproject(p: Project) -> str:
    return f"""[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{p.slug}"
version = "{p.version}"
requires-python = ">=3.10"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["slow: long running tests"]

[tool.ruff]
line-length = 110
"""
