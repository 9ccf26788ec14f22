"""Monitoring (监测): alerts from the sensors an operator runs (Suricata, Wazuh, firewalls over syslog, CEF), mapped onto the business map."""
