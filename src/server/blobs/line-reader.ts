// The head/tail line readers moved to src/common (the worker serves live reads with them too).
export { readHeadLines, readTailLines } from '../../common/line-reader.js';
