/** The task module the pipeline's worker threads load: one call maps one block. */
import type { BlockTask, BlockResult } from './block-task.ts';
import { runBlock } from './block.ts';

export function mapBlock(task: BlockTask): Promise<BlockResult> {
  return runBlock(task);
}
