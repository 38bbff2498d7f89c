# moto's own server, adjusted in three ways for a platform's local AWS (see infra/src/moto.rs).
#
# 1. DynamoDB requests run one at a time, reads too. moto checks a condition and writes in two
#    steps without a lock, so two concurrent conditional writes could both succeed where DynamoDB
#    lets only one. And moto applies an update to the stored item one action at a time, so a read
#    running beside it could see a half-updated item (a transcript with its key but not yet its
#    other attributes: the API's read of it failed with a 500 under load), or fail outright
#    ("dictionary changed size during iteration": even a GetItem of a missing key adds an empty
#    partition to the table's dict while a GSI query walks it). DynamoDB makes each item write
#    atomic; one request at a time gives the same here, at little cost, as the interpreter lock
#    already lets only one request compute at a time.
# 2. TransactWriteItems backs up only the items it names. moto deep-copies every table a
#    transaction touches before running it (to roll back on failure), so each transaction costs
#    time in proportion to the whole table: under sustained writes the local stack slowed down
#    minute by minute. The same rollback is kept, item by item.
# 3. A Query of the table itself reads the one partition it names. moto walks and sorts every
#    item of the table for it, the other half of the slowdown as the table grew.
import copy
import logging
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

# One log line per request, written to a discarded stream, took a tenth of the server's time.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

def backup_items_not_tables():
    try:
        from moto.dynamodb import models
        from moto.dynamodb.models import DynamoDBBackend, DynamoType, Table
    except ImportError:
        return
    if not hasattr(models, "copy") or not hasattr(DynamoDBBackend, "transact_write_items"):
        print("moto changed: transactions keep whole-table backups", file=sys.stderr)
        return
    in_transaction = threading.local()

    class TablesAreNotCopied:
        """moto's `copy` inside a transaction: a table "backup" is the table itself."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            if getattr(in_transaction, "on", False) and isinstance(value, Table):
                return value
            return copy.deepcopy(value, memo)

    models.copy = TablesAreNotCopied()
    transact = DynamoDBBackend.transact_write_items

    def named_slots(backend, transact_items):
        """(table, hash key, range key) of every item the transaction names."""
        slots = []
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            if not isinstance(op, dict) or op.get("TableName") not in backend.tables:
                continue
            table = backend.tables[op["TableName"]]
            attrs = op.get("Item") or op.get("Key") or {}
            if table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attrs:
                    continue
                range_key = DynamoType(attrs[table.range_key_attr])
            slots.append((table, hash_key, range_key))
        return slots

    def restore(table, hash_key, range_key, item):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item

    def transact_write_items(self, transact_items):
        slots = named_slots(self, transact_items)
        saved = [
            (table, h, r, copy.deepcopy(table.get_item(h, r))) for table, h, r in slots
        ]
        in_transaction.on = True
        try:
            return transact(self, transact_items)
        except BaseException:
            for table, h, r, item in reversed(saved):
                restore(table, h, r, item)
            raise
        finally:
            in_transaction.on = False

    DynamoDBBackend.transact_write_items = transact_write_items


def query_reads_one_partition():
    try:
        from moto.dynamodb.models.table import Table
    except ImportError:
        return
    if not hasattr(Table, "all_items") or not hasattr(Table, "query"):
        print("moto changed: queries walk the whole table", file=sys.stderr)
        return
    queried = threading.local()
    all_items = Table.all_items
    query = Table.query

    def items_of_the_queried_partition(self):
        table, hash_key = getattr(queried, "partition", (None, None))
        if table is not self:
            return all_items(self)
        partition = self.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]

    def query_one_partition(self, hash_key, *args, **kwargs):
        # Positionally, moto passes the index name seventh after the hash key.
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        queried.partition = (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            queried.partition = (None, None)

    Table.all_items = items_of_the_queried_partition
    Table.query = query_one_partition


backup_items_not_tables()
query_reads_one_partition()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with lock:
            return list(app(environ, start_response))
    return app(environ, start_response)


run_simple("127.0.0.1", int(sys.argv[1]), serialized, threaded=True)
