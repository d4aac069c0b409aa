/** What a batch function answers for one item: its value, or the error that item fails with. */
export type BatchResult<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface MicroBatcherOptions<I, O> {
  /** Flush as soon as this many items wait (≥ 1). */
  maxSize: number;
  /** Flush this many ms after the first item of a batch arrived, full or not (≥ 0). */
  maxWaitMs: number;
  /**
   * Runs one batch; answers one result per item, in the items' order. Throwing fails every item
   * of the batch with that error.
   */
  run: (items: I[]) => Promise<BatchResult<O>[]>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items submitted one by one (each BullMQ job calls `submit` with its event) into batches
 * of up to `maxSize`, or whatever arrived within `maxWaitMs`, and settles each caller's promise with
 * its own item's result. DataLoader was the library candidate, but it dispatches a full batch only
 * at its scheduled time, which would hold a full batch back for the whole wait.
 */
export class MicroBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    if (!(options.maxSize >= 1) || !(options.maxWaitMs >= 0)) {
      throw new RangeError("maxSize must be ≥ 1 and maxWaitMs ≥ 0");
    }
  }

  /** Resolves with the item's value or rejects with its error once its batch has run. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.options.maxSize) this.flush();
      else
        this.timer ??= setTimeout(() => {
          this.flush();
        }, this.options.maxWaitMs);
    });
  }

  /** Runs what is waiting now, without waiting for the batch to fill. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    void this.runBatch(batch);
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    let results: BatchResult<O>[];
    try {
      results = await this.options.run(batch.map((waiting) => waiting.item));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const result = results[index];
      if (result === undefined) waiting.reject(new Error("the batch returned no result"));
      else if (result.ok) waiting.resolve(result.value);
      else waiting.reject(result.error);
    });
  }
}
