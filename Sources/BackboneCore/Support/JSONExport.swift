// Core reads and writes JSON it stores (dimension values, history snapshots), and every
// module above it speaks JSON: they see the JSON types through BackboneCore.
@_exported import JSON
