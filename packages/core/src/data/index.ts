/**
 * Data processing: tables read from Parquet, Arrow, CSV and JSON lines, streamed as record batches
 * through stages placed on CPU workers and GPUs. Reached through `td.read` / `td.fromArrow`.
 * @packageDocumentation
 */
export { Table } from './table.ts';
export type { Batch, Schema } from './batch.ts';
export { Dictionary, COLUMN_TYPES, type Column, type ColumnType } from './column.ts';
export type { ReadOptions } from './read/source.ts';
export type { RunOptions } from './run.ts';
export type { Aggregation } from './stages/aggregates.ts';
export type { AggSpec } from './stages/group-by.ts';
export type { HistogramSpec } from './stages/histogram.ts';
export type { Comparison } from './stages/filter.ts';
export type { JoinOptions } from './stages/join.ts';
export type { PlainBatch, PlainColumn, PlainColumns } from './stages/map-batches.ts';
export type { PipelineRun, StageStats } from './stages/stage.ts';
export type { TrainData, TrainDataOptions, LabelledRows } from './train-data.ts';
export type { WriteFormat } from './write/write.ts';
