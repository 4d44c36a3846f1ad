import type { LibraryModel } from "../../flow/models.ts";
import { genericPool } from "./generic-pool.ts";
import { knex } from "./knex.ts";
import { mongodb } from "./mongodb.ts";
import { mongoose } from "./mongoose.ts";
import { mysql2 } from "./mysql2.ts";
import { pg } from "./pg.ts";
import { pgLegacy } from "./pg-legacy.ts";
import { prisma } from "./prisma.ts";
import { sequelize } from "./sequelize.ts";
import { typeorm } from "./typeorm.ts";

// The TypeScript/JavaScript library models, sorted by id. Supporting a new library is one
// file in this folder and one line here.
export const typescriptModels: readonly LibraryModel[] = [genericPool, knex, mongodb, mongoose, mysql2, pg, pgLegacy, prisma, sequelize, typeorm];
