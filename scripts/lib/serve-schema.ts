/**
 * Request schemas of `lamer serve` (the OpenAI-compatible subset it implements) and the OpenAI error body.
 * Unknown fields are ignored (clients send many optional ones); fields we cannot honour are rejected with a
 * 400 that names them rather than silently ignored.
 */
import { z } from 'zod';

const StopSchema = z
  .union([z.string().min(1), z.array(z.string().min(1)).max(4)])
  .nullable()
  .optional();

const Sampling = {
  model: z.string().min(1, 'model is required'),
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(8).nullable().optional(),
  stop: StopSchema,
  seed: z.number().int().nullable().optional(),
  stream: z
    .literal(false, { message: 'streaming is not supported by lamer serve (set stream: false)' })
    .nullable()
    .optional(),
  presence_penalty: z.literal(0, { message: 'presence_penalty is not supported (only 0)' }).nullable().optional(),
  frequency_penalty: z.literal(0, { message: 'frequency_penalty is not supported (only 0)' }).nullable().optional(),
  /** vLLM/llama.cpp extension; the engine samples with temperature and top-p only (0 and -1 mean "off"). */
  top_k: z
    .union([z.literal(0), z.literal(-1)], { message: 'top_k is not supported by lamer serve (use top_p)' })
    .nullable()
    .optional(),
  /** vLLM extension: keep the matched stop string at the end of the text. */
  include_stop_str_in_output: z.boolean().optional(),
  user: z.string().optional(),
};

export const CompletionRequestSchema = z.object({
  ...Sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'prompt: exactly one prompt per request')]),
  /** OpenAI legacy: number of top alternatives; the sampled token's log-prob is always included. */
  logprobs: z
    .number()
    .int()
    .min(0)
    .max(0, "logprobs: only 0 is supported (the sampled token's log-prob; no top alternatives)")
    .nullable()
    .optional(),
  echo: z.literal(false, { message: 'echo is not supported' }).nullable().optional(),
  best_of: z.literal(1, { message: 'best_of is not supported (only 1)' }).nullable().optional(),
  suffix: z.null({ message: 'suffix is not supported' }).optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

const ContentPart = z.object({ type: z.literal('text'), text: z.string() });
const MessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(ContentPart)]).nullable(),
});

export const ChatRequestSchema = z.object({
  ...Sampling,
  messages: z.array(MessageSchema).min(1, 'messages must not be empty'),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z
    .number()
    .int()
    .min(0)
    .max(0, 'top_logprobs: only 0 is supported (no top alternatives)')
    .nullable()
    .optional(),
  tools: z.undefined({ message: 'tools are not supported' }).optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

/** OpenAI's error body. */
export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function apiError(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): ApiErrorBody {
  return { error: { message, type, param, code } };
}

/** The first schema problem as OpenAI reports it: message plus the offending parameter. */
export function zodToApiError(err: z.ZodError): ApiErrorBody {
  const i = err.issues[0];
  const param = i.path.length ? i.path.map(String).join('.') : null;
  const msg = i.message.startsWith(`${param}:`) || !param ? i.message : `${param}: ${i.message}`;
  return apiError(msg, 'invalid_request_error', param, 'invalid_value');
}
