"""The few protobuf messages of current Anki packages that the import reads.

Anki 2.1.50+ stores note type and template settings, deck presets, a deck's kind, the
package's media list and its format version as protobuf messages (ankitects/anki
``proto/anki/notetypes.proto``, ``deck_config.proto``, ``decks.proto`` and
``import_export.proto``). Only the fields read here are declared; the ``protobuf`` library
decodes them and skips every other field.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

#: message name -> fields as (name, number, type, repeated)
_MESSAGES: dict[str, list[tuple[str, int, str, bool]]] = {
    # notetypes.proto Notetype.Config: kind 0 = normal, 1 = cloze
    "NotetypeConfig": [("kind", 1, "int32", False)],
    # notetypes.proto Notetype.Template.Config: the question and answer templates
    "TemplateConfig": [("q_format", 1, "string", False), ("a_format", 2, "string", False)],
    # deck_config.proto DeckConfig.Config: FSRS parameters (4.5, 5, 6), historical retention
    "PresetConfig": [
        ("fsrs_params_4", 3, "float", True),
        ("fsrs_params_5", 5, "float", True),
        ("fsrs_params_6", 6, "float", True),
        ("historical_retention", 40, "float", False),
    ],
    # decks.proto Deck.KindContainer (normal = 1) and Deck.Normal (config_id = 1)
    "DeckNormal": [("config_id", 1, "int64", False)],
    "DeckKind": [("normal", 1, ".trainer_anki.DeckNormal", False)],
    # import_export.proto PackageMetadata: version 3 (LATEST) = zstd-compressed members
    "PackageMetadata": [("version", 1, "int32", False)],
    # import_export.proto MediaEntries / MediaEntry
    "MediaEntry": [("name", 1, "string", False), ("size", 2, "uint32", False)],
    "MediaEntries": [("entries", 1, ".trainer_anki.MediaEntry", True)],
}
_TYPES = {
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
}


class ProtoError(ValueError):
    """A blob that is not the protobuf message expected."""


@cache
def _message_class(name: str) -> Any:
    pool = descriptor_pool.DescriptorPool()
    file = descriptor_pb2.FileDescriptorProto(
        name="trainer_anki.proto", package="trainer_anki", syntax="proto3"
    )
    for message_name, fields in _MESSAGES.items():
        message = file.message_type.add(name=message_name)
        for field_name, number, kind, repeated in fields:
            field = message.field.add(name=field_name, number=number)
            field.label = (
                descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
                if repeated
                else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
            )
            if kind in _TYPES:
                field.type = _TYPES[kind]
            else:
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
                field.type_name = kind
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"trainer_anki.{name}"))


def _decode(name: str, blob: bytes) -> Any:
    if not isinstance(blob, bytes):
        raise ProtoError(f"{name}: expected bytes, found {type(blob).__name__}")
    try:
        return _message_class(name).FromString(blob)
    except DecodeError as exc:
        raise ProtoError(f"{name}: {exc}") from None


def notetype_is_cloze(blob: bytes) -> bool:
    """True for a cloze note type's config blob. Raises :class:`ProtoError`."""
    return bool(_decode("NotetypeConfig", blob).kind == 1)


def template_formats(blob: bytes) -> tuple[str, str]:
    """(question template, answer template) of a card template's config blob."""
    message = _decode("TemplateConfig", blob)
    return str(message.q_format), str(message.a_format)


def package_version(blob: bytes) -> int:
    """The format version in a package's ``meta`` member (3: zstd-compressed members)."""
    return int(_decode("PackageMetadata", blob).version)


def media_names(blob: bytes) -> list[tuple[str, int]]:
    """(file name, size in bytes) per media entry; entry N is the archive member named N."""
    return [(str(e.name), int(e.size)) for e in _decode("MediaEntries", blob).entries]


def preset_fsrs(blob: bytes) -> tuple[list[float], float]:
    """(FSRS parameters, historical retention) of a deck preset's config blob: the FSRS-6
    parameters, else FSRS-5's, else FSRS-4.5's (Anki ``DeckConfig::fsrs_params``), empty when
    the preset has none; retention 0 when unset."""
    message = _decode("PresetConfig", blob)
    parameters = (
        list(message.fsrs_params_6) or list(message.fsrs_params_5) or list(message.fsrs_params_4)
    )
    return [float(v) for v in parameters], float(message.historical_retention)


def deck_preset(blob: bytes) -> int | None:
    """The preset id of a normal deck's kind blob; None for a filtered deck."""
    message = _decode("DeckKind", blob)
    return int(message.normal.config_id) if message.HasField("normal") else None
