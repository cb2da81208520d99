// Every model test sees the node kinds as the server serves them: test/kinds.json is
// a copy of GET /v1/schema/nodes, kept equal to the table by tests/dsl/node_table_test.cpp.
import { setKinds, type KindSchema } from '../src/model/kinds';
import kinds from './kinds.json';

setKinds(kinds as KindSchema[]);
