"""CloudFormation alarms bound to the endpoint or function they watch (PFA-TE-012: cloudwatch_alarms)."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.predicates.cloudwatch_alarms import ALARM_FACT, CloudWatchAlarms
from pfa_policy.engine.repository import RepoContext, RepoFile
from pfa_policy.model import FactOccurrence, Span

_TEMPLATE = """\
Parameters:
  ModelName: {Type: String}
Resources:
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: !Sub ${ModelName}-prd
      EndpointConfigName: churn
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: api/
  FunctionErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: api-errors
      Dimensions:
        - {Name: Resource, Value: !Sub "${ApiFunction}:live"}
      AlarmActions: ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  Latency:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: endpoint-latency
      Metrics:
        - Id: p99
          MetricStat:
            Metric:
              Namespace: AWS/SageMaker
              MetricName: ModelLatency
              Dimensions:
                - {Name: EndpointName, Value: !Sub "${ModelName}-prd"}
            Stat: p99
            Period: 60
"""


def _context(tmp_path: Path, files: dict[str, str]) -> RepoContext:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    repo_files = tuple(RepoFile(name, len(text), "production", frozenset({"cloudformation", "yaml"}))
                       for name, text in files.items())
    facts = tuple(FactOccurrence(ALARM_FACT, name, "production", Span(1, 1, 1, 1), "AWS::CloudWatch::Alarm")
                  for name, text in files.items() if "AWS::CloudWatch::" in text)
    return RepoContext(tmp_path, repo_files, facts)


def _served(alarms: CloudWatchAlarms, path: str, line: int, value: str) -> bool:
    resource = alarms.served_resource(FactOccurrence("te-model-served-manifest", path, "production",
                                                     Span(line, 1, line, 10), value))
    assert resource is not None
    return alarms.alerts_on(resource)


def test_an_alarm_binds_by_reference_and_by_the_name_as_written(tmp_path: Path) -> None:
    alarms = CloudWatchAlarms(_context(tmp_path, {"t.yaml": _TEMPLATE}), frozenset({"production"}))
    assert _served(alarms, "t.yaml", 1, "ApiFunction")  # !Sub "${ApiFunction}:live", with actions
    # The metric-math alarm names the endpoint as its EndpointName is written, but has no AlarmActions.
    assert not _served(alarms, "t.yaml", 5, "AWS::SageMaker::Endpoint")
    assert alarms.any_notifying


def test_a_composite_alarm_notifies_for_its_children(tmp_path: Path) -> None:
    composite = _TEMPLATE + """\
  Degraded:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmRule: !Sub "ALARM(${Latency}) OR ALARM(other)"
      AlarmActions: ["arn:aws:sns:eu-west-1:123456789012:oncall"]
"""
    alarms = CloudWatchAlarms(_context(tmp_path, {"t.yaml": composite}), frozenset({"production"}))
    assert _served(alarms, "t.yaml", 5, "AWS::SageMaker::Endpoint")


def test_a_literal_name_binds_across_templates_a_sub_text_does_not(tmp_path: Path) -> None:
    endpoint = ("Resources:\n  Endpoint:\n    Type: AWS::SageMaker::Endpoint\n"
                "    Properties:\n      EndpointName: {name}\n      EndpointConfigName: c\n")
    alarm = ("Resources:\n  E5xx:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
             "      Dimensions: [{{Name: EndpointName, Value: {name}}}]\n"
             "      AlarmActions: [arn:aws:sns:eu-west-1:123456789012:oncall]\n      ActionsEnabled: {enabled}\n")
    context = _context(tmp_path, {"e.yaml": endpoint.format(name="churn-prod"),
                                  "a.yaml": alarm.format(name="churn-prod", enabled="true")})
    assert _served(CloudWatchAlarms(context, frozenset({"production"})), "e.yaml", 3, "AWS::SageMaker::Endpoint")
    context = _context(tmp_path, {"e.yaml": endpoint.format(name='!Sub "${AWS::StackName}-prd"'),
                                  "a.yaml": alarm.format(name='!Sub "${AWS::StackName}-prd"', enabled="true")})
    assert not _served(CloudWatchAlarms(context, frozenset({"production"})), "e.yaml", 3,
                       "AWS::SageMaker::Endpoint")
    context = _context(tmp_path, {"e.yaml": endpoint.format(name="churn-prod"),
                                  "a.yaml": alarm.format(name="churn-prod", enabled="false")})
    alarms = CloudWatchAlarms(context, frozenset({"production"}))
    assert not _served(alarms, "e.yaml", 3, "AWS::SageMaker::Endpoint")
    assert not alarms.any_notifying


def test_a_kubernetes_manifest_is_not_a_cloudformation_resource(tmp_path: Path) -> None:
    (tmp_path / "isvc.yaml").write_text("kind: InferenceService\n", encoding="utf-8")
    context = RepoContext(tmp_path, (RepoFile("isvc.yaml", 24, "production", frozenset({"kserve", "yaml"})),), ())
    alarms = CloudWatchAlarms(context, frozenset({"production"}))
    assert alarms.served_resource(FactOccurrence("te-model-served-manifest", "isvc.yaml", "production",
                                                 Span(1, 1, 1, 1), "churn")) is None
