from cloudoptima_mcp.platform import main

if __name__ == "__main__":
    main()
