export { fastSerializerCompiler } from './fast-serializer.ts';
export type { OperationsOptions } from './operations.ts';
export { registerOperations } from './operations.ts';
export type { OperatorGuardOptions } from './operator-guard.ts';
export { installOperatorGuard } from './operator-guard.ts';
export type { ProblemDetails } from './problem.ts';
export {
  invalidRequest,
  Problem,
  problemBody,
  problemContentType,
  problemResponses,
  problemType,
  sendProblem,
} from './problem.ts';
export type { HttpApp, HttpServerOptions } from './server.ts';
export { createHttpServer } from './server.ts';
