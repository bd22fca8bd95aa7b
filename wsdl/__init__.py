"""The published contract: the WSDL and XSDs, installed as package data of ``gateway.wsdl``."""
