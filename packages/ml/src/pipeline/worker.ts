/** The task module the pipeline's worker threads load: one call maps one block. */
import type { BlockJob, BlockResult } from './job.ts';
import { runBlock } from './block.ts';

export function mapBlock(job: BlockJob): Promise<BlockResult> {
  return runBlock(job);
}
