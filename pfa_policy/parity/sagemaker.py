"""Features of a CloudFormation template rendered for one stage: SageMaker endpoint architecture (serverless,
instance, asynchronous), data capture, KMS keys, model images, and monitoring resources a stage deploys."""

from __future__ import annotations

from collections.abc import Iterator

from pfa_policy.parity.features import (
    ABSENT,
    ACCESS,
    COMPONENT_AUDIT,
    COMPONENT_TELEMETRY,
    ENCRYPTION,
    IMAGE,
    PRESENT,
    SERVING,
    TRUE_WORDS,
    Feature,
    unknown_reason,
)
from pfa_policy.parity.located import Val
from pfa_policy.parity.model import image_repository

_CFN_COMPONENTS = {"AWS::CloudWatch::Alarm": COMPONENT_TELEMETRY, "AWS::CloudWatch::Dashboard": COMPONENT_TELEMETRY,
                   "AWS::SageMaker::MonitoringSchedule": COMPONENT_TELEMETRY,
                   "AWS::SageMaker::DataQualityJobDefinition": COMPONENT_TELEMETRY,
                   "AWS::SageMaker::ModelQualityJobDefinition": COMPONENT_TELEMETRY,
                   "AWS::KMS::Key": ENCRYPTION, "AWS::WAFv2::WebACLAssociation": ACCESS}


def template_features(resources: Val) -> Iterator[Feature]:
    for logical_id, resource in resources.items():
        kind = (resource.get("Type") or Val("", "")).text()
        properties = resource.get("Properties") or Val({}, resource.file)
        if kind in _CFN_COMPONENTS:
            yield Feature(_CFN_COMPONENTS[kind], f"resource:{kind}", PRESENT, resource.get("Type"))
        if kind == "AWS::SageMaker::EndpointConfig":
            yield from _endpoint_config(logical_id, properties)
        if kind == "AWS::SageMaker::Model":
            for index, container in enumerate(_containers_of(properties)):
                image = container.get("Image")
                if image is not None and image.text():
                    yield Feature(IMAGE, f"image:{logical_id}[{index}]", image_repository(image.text()), image,
                                  unknown_reason(image))


def _containers_of(properties: Val) -> list[Val]:
    primary = properties.get("PrimaryContainer")
    return [primary] if primary is not None else list((properties.get("Containers") or Val([], "")).elements())


def _undecided(value: Val | None) -> bool:
    return value is not None and isinstance(value.value, dict) and "Fn::If" in value.value


def _endpoint_config(logical_id: str, properties: Val) -> Iterator[Feature]:
    for index, variant in enumerate((properties.get("ProductionVariants") or Val([], "")).elements()):
        label = (variant.get("VariantName") or Val(str(index), "")).text() or str(index)
        serverless = variant.get("ServerlessConfig")
        instance = variant.get("InstanceType")
        key = f"sagemaker-endpoint:{logical_id}.{label}"
        if _undecided(serverless) or _undecided(instance):
            yield Feature(SERVING, key, "", serverless or instance, "a condition not decided before deployment")
        elif serverless is not None:
            yield Feature(SERVING, key, "serverless endpoint", serverless)
        elif instance is not None:
            yield Feature(SERVING, key, "instance endpoint", instance)
    if properties.get("AsyncInferenceConfig") is not None:
        yield Feature(SERVING, f"sagemaker-async:{logical_id}", "asynchronous", properties.get("AsyncInferenceConfig"))
    capture = properties.get("DataCaptureConfig")
    key = f"data-capture:{logical_id}"
    if _undecided(capture):
        yield Feature(COMPONENT_AUDIT, key, "", capture, "a condition not decided before deployment")
    elif capture is not None:
        enabled = capture.get("EnableCapture")
        on = enabled is None or enabled.text().lower() in TRUE_WORDS
        yield Feature(COMPONENT_AUDIT, key, PRESENT if on else ABSENT, enabled or capture,
                      unknown_reason(enabled) if enabled is not None else "")
    else:
        yield Feature(COMPONENT_AUDIT, key, ABSENT, None)
    kms = properties.get("KmsKeyId")
    yield Feature(ENCRYPTION, f"kms:{logical_id}", PRESENT if kms is not None and (kms.text() or kms.value) else ABSENT,
                  kms)
