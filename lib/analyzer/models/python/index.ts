// The Python library models, one file per library. Supporting a new library is one
// data file here plus one line in this list.
import type { LibraryModel } from "../../flow/models.ts";
import { aiomysql } from "./aiomysql.ts";
import { aiosqlite } from "./aiosqlite.ts";
import { asyncpg } from "./asyncpg.ts";
import { contextlib } from "./contextlib.ts";
import { flaskSqlalchemy } from "./flask-sqlalchemy.ts";
import { mysqlclient } from "./mysqlclient.ts";
import { oracledb } from "./oracledb.ts";
import { psycopg } from "./psycopg.ts";
import { psycopgPool } from "./psycopg-pool.ts";
import { psycopg2 } from "./psycopg2.ts";
import { pymysql } from "./pymysql.ts";
import { pyodbc } from "./pyodbc.ts";
import { sqlalchemy } from "./sqlalchemy.ts";
import { sqlite3 } from "./sqlite3.ts";
import { sqlmodel } from "./sqlmodel.ts";
import { stdlibClock } from "./stdlib-clock.ts";

export const pythonModels: readonly LibraryModel[] = [
  aiomysql,
  aiosqlite,
  asyncpg,
  contextlib,
  flaskSqlalchemy,
  mysqlclient,
  oracledb,
  psycopg,
  psycopgPool,
  psycopg2,
  pymysql,
  pyodbc,
  sqlalchemy,
  sqlite3,
  sqlmodel,
  stdlibClock,
];
