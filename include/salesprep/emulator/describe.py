"""Describe results (global and per object) for the fields an org folder really has."""

from __future__ import annotations

import re
from typing import Any

from salesprep.emulator.schema import FieldInfo, ObjectSchema

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "anyType": "xsd:anyType",
}
_LENGTHS = {
    "id": 18,
    "reference": 18,
    "string": 255,
    "picklist": 255,
    "multipicklist": 4099,
    "combobox": 255,
    "textarea": 32000,
    "email": 80,
    "phone": 40,
    "url": 255,
}
_AUDIT_FIELDS = frozenset({"CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted"})


def _label(name: str) -> str:
    """`CloseDate` → `Close Date`, `OwnerId` → `Owner ID`, `Loss_Reason__c` → `Loss Reason`."""
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + "ID"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).replace("_", " ")
    return " ".join(words.split())


def describe_field(info: FieldInfo) -> dict[str, Any]:
    """One entry of `fields` in an sObject describe."""
    type_ = info.type
    length = _LENGTHS.get(type_, 0)
    is_number = type_ in ("currency", "double", "percent", "int")
    nillable = type_ not in ("id", "boolean") and info.name not in _AUDIT_FIELDS
    reference_to = [info.reference_to] if info.reference_to else []
    relationship = None
    if type_ == "reference" and info.name.endswith("Id"):
        relationship = info.name[:-2]
    return {
        "aggregatable": type_ not in ("textarea", "boolean"),
        "autoNumber": False,
        "byteLength": length * 3,
        "calculated": False,
        "caseSensitive": False,
        "createable": info.name not in _AUDIT_FIELDS and type_ != "id",
        "custom": info.custom,
        "defaultValue": None,
        "defaultedOnCreate": type_ == "boolean" or info.name in _AUDIT_FIELDS,
        "digits": 9 if type_ == "int" else 0,
        "externalId": False,
        "filterable": info.filterable,
        "groupable": type_ not in ("textarea", "currency", "double", "percent", "datetime"),
        "idLookup": type_ == "id",
        "label": _label(info.name),
        "length": length,
        "name": info.name,
        "nameField": info.name == "Name",
        "nillable": nillable,
        "picklistValues": [],
        "precision": 18 if is_number and type_ != "int" else 0,
        "referenceTo": reference_to,
        "relationshipName": relationship,
        "restrictedPicklist": False,
        "scale": 2 if type_ in ("currency", "double", "percent") else 0,
        "soapType": _SOAP_TYPES.get(type_, "xsd:string"),
        "sortable": info.sortable,
        "type": type_,
        "unique": False,
        "updateable": info.name not in _AUDIT_FIELDS and type_ != "id",
    }


def _plural(label: str) -> str:
    if label.endswith("y") and not label.endswith("ay"):
        return label[:-1] + "ies"
    return label + ("es" if label.endswith(("s", "x")) else "s")


def describe_summary(schema: ObjectSchema, version: str) -> dict[str, Any]:
    """One entry of the global describe's `sobjects`."""
    base = f"/services/data/v{version}/sobjects/{schema.name}"
    return {
        "activateable": False,
        "createable": True,
        "custom": schema.name.endswith("__c"),
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "keyPrefix": schema.key_prefix,
        "label": schema.label,
        "labelPlural": _plural(schema.label),
        "layoutable": True,
        "mergeable": False,
        "name": schema.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": schema.is_deleted is not None,
        "updateable": True,
        "urls": {
            "rowTemplate": f"{base}/{{ID}}",
            "describe": f"{base}/describe",
            "sobject": base,
        },
    }


def describe_global(schemas: list[ObjectSchema], version: str) -> dict[str, Any]:
    """`GET /sobjects/`: the objects the org folder has."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [describe_summary(s, version) for s in schemas],
    }


def describe_sobject(schema: ObjectSchema, version: str) -> dict[str, Any]:
    """`GET /sobjects/<Object>/describe/`: the object with the fields its CSV has."""
    result = describe_summary(schema, version)
    result.update(
        {
            "childRelationships": [],
            "fields": [describe_field(f) for f in schema.fields],
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All", "name": "everything"}],
        }
    )
    return dict(sorted(result.items()))
